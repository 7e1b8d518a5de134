import type { Plugin } from "esbuild";
export declare const pageEngineOff: Plugin;
export declare const libraryPure: Plugin;
