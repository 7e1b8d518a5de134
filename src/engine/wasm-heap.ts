/**
 * sql.js's WebAssembly heap, which it does not export: what the vector functions read their
 * arguments from, and rows are read from (binding.ts).
 */
import { TenantliteError } from "../errors.js";
import type { SqlJsFunctionApi, SqlJsModule } from "./sqljs-types.js";

/**
 * sql.js's WebAssembly memory. sql.js exports neither the memory nor a heap view; its
 * `UTF8ToString` hands a view of the heap to `TextDecoder.prototype.decode` for strings longer
 * than 16 bytes, so the memory is found by watching that one call, and then checked by writing
 * through sql.js and reading back. After the heap grows the old buffer is detached (length 0)
 * and the memory is found again.
 */
export class WasmHeap {
  #bytes: Uint8Array = new Uint8Array(0);
  #words: Int32Array = new Int32Array(0);

  readonly #sql: SqlJsModule & SqlJsFunctionApi;

  constructor(sql: SqlJsModule & SqlJsFunctionApi) {
    this.#sql = sql;
    this.#refresh();
  }

  /** The heap as bytes (valid until the next call that may allocate in WASM). */
  u8(): Uint8Array {
    if (this.#bytes.byteLength === 0) this.#refresh();
    return this.#bytes;
  }

  /** The `i`-th 32-bit word at `ptr` (a 4-aligned pointer). */
  word(ptr: number, i: number): number {
    if (this.#words.byteLength === 0) this.#refresh();
    return this.#words[(ptr >> 2) + i]!;
  }

  #refresh(): void {
    const sql = this.#sql;
    const size = 32;
    const ptr = sql._malloc(size + 1);
    if (ptr === 0) throw new TenantliteError("SQLITE_NOMEM", "out of memory");
    try {
      const probe = new Uint8Array(size + 1);
      probe.fill(0x61, 0, size);
      sql.writeArrayToMemory(probe, ptr);
      let seen: ArrayBufferLike | undefined;
      const proto = TextDecoder.prototype;
      const decode = proto.decode;
      proto.decode = function watched(this: TextDecoder, input?: AllowSharedBufferSource) {
        if (ArrayBuffer.isView(input)) seen ??= input.buffer;
        return decode.call(this, input);
      };
      try {
        sql.UTF8ToString(ptr, size);
      } finally {
        proto.decode = decode;
      }
      if (seen === undefined || !(seen instanceof ArrayBuffer) || !this.#check(seen, ptr, size)) {
        throw new TenantliteError(
          "INTERNAL_ERROR",
          "Unsupported sql.js build: its WebAssembly memory was not found (vector functions read their arguments from it)",
        );
      }
      this.#bytes = new Uint8Array(seen);
      this.#words = new Int32Array(seen);
    } finally {
      sql._free(ptr);
    }
  }

  /** Whether `buffer` is the live heap: what sql.js writes at `ptr` shows up in it. */
  #check(buffer: ArrayBuffer, ptr: number, size: number): boolean {
    if (ptr + size > buffer.byteLength) return false;
    const view = new Uint8Array(buffer, ptr, size);
    if (!view.every((b) => b === 0x61)) return false;
    const pattern = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 1) & 0xff);
    this.#sql.writeArrayToMemory(pattern, ptr);
    return view.every((b, i) => b === pattern[i]);
  }
}

const heaps = new WeakMap<SqlJsModule, WasmHeap>();

/** The heap of sql.js instance `sql` (found once per instance). */
export function heapOf(sql: SqlJsModule): WasmHeap {
  let heap = heaps.get(sql);
  if (heap === undefined) {
    heap = new WasmHeap(sql as SqlJsModule & SqlJsFunctionApi);
    heaps.set(sql, heap);
  }
  return heap;
}
