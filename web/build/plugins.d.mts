import type { Plugin } from "esbuild";
export declare const lodashLite: Plugin;
export declare const chevrotainNa: Plugin;
export declare const chevrotainChecksOff: Plugin;
export declare const chevrotainMessagesOff: Plugin;
export declare const chevrotainRecoveryOff: Plugin;
export declare const webPlugins: Plugin[];
export declare const pageEngineOff: Plugin;
export declare const libraryPure: Plugin;
