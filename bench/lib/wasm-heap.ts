/**
 * sql.js's WebAssembly heap, for memory figures finer than RSS. sql.js exports neither its Memory
 * nor SQLite's memory statistics, so {@link watchWasmMemory} wraps `WebAssembly.instantiate`
 * before sql.js loads (sql.js loads once per process: call it before the first `initSqlJs()`) and
 * keeps the Memory the instance exports.
 */

let memory: WebAssembly.Memory | undefined;

/** Starts watching for the WASM Memory sql.js is about to create. */
export function watchWasmMemory(): void {
  const original = WebAssembly.instantiate;
  const keep = (exports: WebAssembly.Exports): void => {
    for (const v of Object.values(exports)) {
      if (v instanceof WebAssembly.Memory) memory ??= v;
    }
  };
  const wrapped = async (...args: Parameters<typeof WebAssembly.instantiate>) => {
    const r = (await (original as (...a: unknown[]) => Promise<unknown>)(...args)) as
      | WebAssembly.Instance
      | WebAssembly.WebAssemblyInstantiatedSource;
    keep("instance" in r ? r.instance.exports : r.exports);
    return r;
  };
  WebAssembly.instantiate = wrapped as typeof WebAssembly.instantiate;
}

/** The size of the WASM heap (it only grows), or undefined when it was not captured. */
export function wasmHeapSize(): number | undefined {
  return memory?.buffer.byteLength;
}

/** The allocator sql.js exports (`_malloc`/`_free` on the initialized module). */
export interface WasmAllocator {
  _malloc(size: number): number;
  _free(ptr: number): void;
}

const PROBE_CHUNK = 4 * 1024;

/**
 * Bytes of the WASM heap in use: its size minus what `malloc` can still hand out in 4 KB chunks
 * without growing it (free holes smaller than that count as used; with 64 KB chunks, the holes a
 * churn of connections leaves would count as ~45 KB per connection). The chunks are freed again.
 * The probe may grow the heap by one step, and it writes a header into every page of the free
 * space, which makes it resident: take RSS figures in a process that does not probe.
 */
export function wasmHeapInUse(alloc: WasmAllocator): number | undefined {
  if (memory === undefined) return undefined;
  const size = memory.buffer.byteLength;
  const chunks: number[] = [];
  const most = size / PROBE_CHUNK + 1;
  try {
    for (let i = 0; i < most; i++) {
      const p = alloc._malloc(PROBE_CHUNK);
      if (p === 0) break;
      chunks.push(p);
      if (memory.buffer.byteLength !== size) break;
    }
  } finally {
    for (const p of chunks) alloc._free(p);
  }
  // The last chunk needed more room than the heap had: it does not count as free space.
  const free = Math.max(0, chunks.length - 1) * PROBE_CHUNK;
  return size - free;
}
