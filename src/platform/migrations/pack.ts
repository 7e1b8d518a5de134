/**
 * The stage of a migration job in storage, and the pack codec: children's migrated images are
 * staged in packs (`migrations/<job>/pack-<n>`, one durable write for many children) beside the
 * parent's (`migrations/<job>/parent.db`).
 */
import { TenantliteError } from "../../errors.js";

/** A staged child: its migrated image, or the shared image it is to read from now on. */
export type StagedChild = { id: string; image: Uint8Array } | { id: string; base: string };

const PACK_MAGIC_V1 = new TextEncoder().encode("TLPACK1\n");
const PACK_MAGIC = new TextEncoder().encode("TLPACK2\n");

/**
 * Packs staged children: `TLPACK2\n`, then per entry u16 id length, id, u8 kind (0: an image,
 * 1: the key of a shared image), u32 length, payload. (`TLPACK1` packs, images only without the
 * kind byte, are still read.)
 */
export function encodePack(entries: readonly StagedChild[]): Uint8Array {
  const encoder = new TextEncoder();
  const ids = entries.map((e) => encoder.encode(e.id));
  const payloads = entries.map((e) => ("image" in e ? e.image : encoder.encode(e.base)));
  let size = PACK_MAGIC.length;
  entries.forEach((_, i) => {
    size += 2 + ids[i]!.length + 1 + 4 + payloads[i]!.length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(PACK_MAGIC);
  let o = PACK_MAGIC.length;
  entries.forEach((e, i) => {
    view.setUint16(o, ids[i]!.length);
    out.set(ids[i]!, o + 2);
    o += 2 + ids[i]!.length;
    out[o++] = "image" in e ? 0 : 1;
    view.setUint32(o, payloads[i]!.length);
    out.set(payloads[i]!, o + 4);
    o += 4 + payloads[i]!.length;
  });
  return out;
}

/** Reads a pack back; `MIGRATION_STAGE_CORRUPT` when it is damaged. */
export function decodePack(bytes: Uint8Array): StagedChild[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = () =>
    new TenantliteError("MIGRATION_STAGE_CORRUPT", "a staged migration pack is damaged");
  const has = (magic: Uint8Array) => magic.every((b, i) => bytes[i] === b);
  const v2 = has(PACK_MAGIC);
  if (!v2 && !has(PACK_MAGIC_V1)) throw damaged();
  const decoder = new TextDecoder();
  const out: StagedChild[] = [];
  let o = PACK_MAGIC.length;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw damaged();
    const idLength = view.getUint16(o);
    const id = decoder.decode(bytes.subarray(o + 2, o + 2 + idLength));
    o += 2 + idLength;
    const kind = v2 ? bytes[o++] : 0;
    if (o + 4 > bytes.length) throw damaged();
    const length = view.getUint32(o);
    if (o + 4 + length > bytes.length || (kind !== 0 && kind !== 1)) throw damaged();
    const payload = bytes.subarray(o + 4, o + 4 + length);
    out.push(kind === 0 ? { id, image: payload } : { id, base: decoder.decode(payload) });
    o += 4 + length;
  }
  return out;
}
