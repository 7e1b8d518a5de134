import type { Plugin } from "esbuild";
export declare const lodashLite: Plugin;
export declare const chevrotainNa: Plugin;
export declare const chevrotainChecksOff: Plugin;
export declare const webPlugins: Plugin[];
