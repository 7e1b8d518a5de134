/**
 * The pool of open tenants: opens them lazily (a file each, with a SQLite connection per logical
 * connection: see engine/tenant-file.ts; reading their stored images is tenant-loader.ts), keeps their number and estimated memory under budget
 * by closing idle ones, persists every committed write through the storage (undoing it in memory
 * when the save fails), and installs new images into tenants (migrations), open or not. Every
 * in-flight state about open tenants lives here: tenants being opened, closed, or waiting to be
 * closed.
 */
import type { OpenTenant } from "../engine/connection-policy.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import type { TenantFile } from "../engine/tenant-file.js";
import { platformClosed, TenantliteError } from "../errors.js";
import { keys } from "../storage/keyspace.js";
import { Persister } from "../storage/persister.js";
import { roomAdvice, type Storage } from "../storage/storage.js";
import type { Catalog } from "./catalog.js";
import type { ImageStore } from "./image-store.js";
import type { SettlingJobs } from "./migrations/jobs.js";
import { type ResolvedOptions, sizeCap, TENANT_OVERHEAD_BYTES } from "./options.js";
import { notEncrypted, type TenantCrypto, type TenantKeys } from "./tenant-keys.js";
import { TenantLoader } from "./tenant-loader.js";
import type { DatabaseInfo } from "./types.js";

/**
 * A tenant bigger than the whole memory budget (`maxOpenBytes`) stays open outside the budget
 * while it is used, and this long after its last use: closing it would mean reading it all back
 * at its next use (seconds per GB), on every use if uses of other tenants come between.
 */
export const OVERSIZED_KEEP_MS = 60_000;

let useClock = 0;

/** An open tenant: its file, what it costs, and who is using it. */
export class PooledTenant implements OpenTenant {
  /** Set for encrypted tenants. */
  crypto: TenantCrypto | undefined;
  /** Estimated memory held (image size plus per-connection overhead). */
  bytes = TENANT_OVERHEAD_BYTES;
  lastUsed = 0;
  /**
   * When it was last opened by a caller or grew (`Date.now()`), for {@link OVERSIZED_KEEP_MS}:
   * noted only while it is bigger than the memory budget.
   */
  usedAt = 0;
  /** Uses in progress (connections between open and release); a pinned tenant is never evicted. */
  pins = 0;
  /** Whether a committed write happened since the tenant was opened. */
  changed = false;
  /** Set while the tenant goes back to its last durable state after a failed save. */
  reverting: Promise<void> | undefined;
  constructor(
    public info: DatabaseInfo,
    readonly file: TenantFile,
    pool: TenantPool,
  ) {
    this.#pool = pool;
  }
  readonly #pool: TenantPool;
  get name(): string {
    return this.info.name;
  }
  committed(): Promise<void> | undefined {
    return this.#pool.persist(this);
  }
  release(): void {
    this.pins--;
  }
}

/** What the pool works with. */
export interface TenantPoolDeps {
  readonly sql: SqlJsModule;
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly images: ImageStore;
  readonly keys: TenantKeys;
  /** Finished migrations whose children's files are still syncing (saves of children wait). */
  readonly settling: SettlingJobs;
  readonly options: ResolvedOptions;
}

/**
 * Where a platform's tenants live when its connections run on tenant threads (platform/threads):
 * a tenant is open in one place at a time, a thread or this pool. The pool brings a tenant back
 * (and keeps it from leaving) while it works on it itself.
 */
export interface TenantLender {
  /**
   * Brings the tenants back from their threads (their saves done) and keeps them from going to
   * one until the returned function is called.
   */
  hold(ids: readonly string[]): Promise<() => void>;
  /** A save of a thread's tenant failed after it was acknowledged: the thread must drop its copy. */
  saveFailed(id: string): void;
}

/** The tenants open in a platform. */
export class TenantPool {
  readonly #open = new Map<string, PooledTenant>();
  /** Open tenants by the name or id connections asked for (entries go stale when a tenant closes). */
  readonly #openByName = new Map<string, PooledTenant>();
  /** Tenants being loaded, with the number of callers waiting (each gets a pin). */
  readonly #opening = new Map<
    string,
    { promise: Promise<PooledTenant>; waiters: number; secret: string | Uint8Array | undefined }
  >();
  /** Tenants being flushed and closed: a reopen waits for them so it loads the final image. */
  readonly #closing = new Map<string, Promise<void>>();
  /**
   * Databases nobody can reach any more, closed a few at a time when the event loop comes round:
   * closing 500 idle tenants costs ~20 ms of sql.js, which a migration need not wait for.
   */
  readonly #toClose: { close(): void }[] = [];
  readonly #persister: Persister | undefined;
  /** Reads tenants' stored images and opens them. */
  readonly #loader: TenantLoader;
  readonly #storage: Storage;
  readonly #catalog: Catalog;
  readonly #images: ImageStore;
  readonly #keys: TenantKeys;
  readonly #settling: SettlingJobs;
  readonly #maxOpen: number;
  readonly #maxOpenBytes: number;
  #openBytes = 0;
  #stopped = false;
  /** Set when tenants also live on threads (see {@link TenantLender}). */
  #lender: TenantLender | undefined;

  constructor(deps: TenantPoolDeps) {
    this.#loader = new TenantLoader(deps);
    this.#storage = deps.storage;
    this.#catalog = deps.catalog;
    this.#images = deps.images;
    this.#keys = deps.keys;
    this.#settling = deps.settling;
    const { options } = deps;
    this.#persister =
      deps.storage.kind === "memory"
        ? undefined
        : new Persister(deps.storage, {
            durability: options.durability,
            onFailure: (key) => this.#saveFailed(key),
            ...(options.flushIntervalMs === undefined
              ? {}
              : { flushIntervalMs: options.flushIntervalMs }),
          });
    this.#maxOpen = options.maxOpen;
    this.#maxOpenBytes = options.maxOpenBytes;
  }

  /** From now on tenants may live on threads too; the pool takes them back as it needs them. */
  lendTo(lender: TenantLender): void {
    this.#lender = lender;
  }

  /** Runs `f` with the tenants brought back from their threads (see {@link TenantLender.hold}). */
  async #home<T>(ids: readonly string[], f: () => Promise<T>): Promise<T> {
    if (this.#lender === undefined) return f();
    const done = await this.#lender.hold(ids);
    try {
      return await f();
    } finally {
      done();
    }
  }

  /** Number of tenants open right now. */
  get size(): number {
    return this.#open.size;
  }

  /** The record of an open tenant by the name or id a connection used, without a catalog query. */
  openInfo(nameOrId: string): DatabaseInfo | undefined {
    return this.#openByName.get(nameOrId)?.info;
  }

  /** Gives an open tenant its changed record (configuration, size limit). */
  setInfo(next: DatabaseInfo, options: { sizeLimit?: boolean } = {}): void {
    const open = this.#open.get(next.id);
    if (open === undefined) return;
    open.info = next;
    if (options.sizeLimit === true) open.file.setSizeLimit(sizeCap(next.sizeLimit));
  }

  /** Gives a tenant its changed size limit (one on a thread is brought back: it reopens with it). */
  async resize(next: DatabaseInfo): Promise<void> {
    await this.#home([next.id], async () => this.setInfo(next, { sizeLimit: true }));
  }

  /**
   * Opens a tenant (or finds it open) and pins it: the caller releases it. The key of an
   * encrypted tenant is checked when this call opens it; {@link verifySecret} checks it otherwise.
   */
  openTenant(nameOrId: string, secret?: string | Uint8Array): Promise<PooledTenant> | PooledTenant {
    if (this.#stopped) throw platformClosed();
    // Hot path: an open tenant by the name (or id) a connection uses, without a catalog query.
    const known = this.#openByName.get(nameOrId);
    if (known !== undefined && this.#open.get(known.info.id) === known) {
      known.lastUsed = ++useClock;
      this.#noteUse(known);
      known.pins++;
      return known;
    }
    const info = this.#catalog.requireDatabase(nameOrId);
    const hit = this.#open.get(info.id);
    if (hit !== undefined) {
      hit.lastUsed = ++useClock;
      this.#noteUse(hit);
      hit.pins++;
      this.#openByName.set(nameOrId, hit);
      return hit;
    }
    let pending = this.#opening.get(info.id);
    if (pending !== undefined && info.encrypted && pending.secret !== secret) {
      // Another caller's key is being tried, and its failure is not this caller's (a wrong key
      // failed every client that opened the tenant with it): open again once that load settled
      // (equal keys in two byte arrays wait too, then find the tenant open and check the key).
      const again = () => this.openTenant(nameOrId, secret);
      return pending.promise.then(again, again);
    }
    if (pending === undefined) {
      const entry = { promise: undefined as unknown as Promise<PooledTenant>, waiters: 0, secret };
      entry.promise = this.#load(info, entry, secret).finally(() => this.#opening.delete(info.id));
      this.#opening.set(info.id, entry);
      pending = entry;
    }
    pending.waiters++;
    return pending.promise.then((t) => {
      this.#openByName.set(nameOrId, t);
      return t;
    });
  }

  /** Opens a tenant and checks the caller's key (for encrypted tenants); the caller releases it. */
  async openVerified(nameOrId: string, secret: string | Uint8Array | undefined) {
    const t = await this.openTenant(nameOrId, secret);
    try {
      if (t.crypto !== undefined) await this.verifySecret(t, secret);
    } catch (e) {
      t.release();
      throw e;
    }
    return t;
  }

  /** Checks a caller's key against an open encrypted tenant's (nothing for unencrypted ones). */
  async verifySecret(t: PooledTenant, secret: string | Uint8Array | undefined): Promise<void> {
    if (t.crypto === undefined) return;
    await this.#keys.verify(t.crypto, t.info.name, secret);
  }

  async #load(
    info: DatabaseInfo,
    entry: { waiters: number },
    secret: string | Uint8Array | undefined,
  ): Promise<PooledTenant> {
    await this.#closing.get(info.id);
    const { file, crypto, size } = await this.#home([info.id], () =>
      this.#loader.load(info, secret),
    );
    file.setSizeLimit(sizeCap(info.sizeLimit));
    const t = new PooledTenant(info, file, this);
    t.crypto = crypto;
    t.bytes = TENANT_OVERHEAD_BYTES + size;
    this.#openBytes += t.bytes;
    t.lastUsed = ++useClock;
    t.usedAt = Date.now();
    // Pinned for every caller that waited for this load; later callers find it open and pin it.
    t.pins = entry.waiters;
    this.#open.set(info.id, t);
    await this.#evictIfOverBudget();
    return t;
  }

  /** After a write on `t` ended: saves it when its committed state changed (see OpenTenant). */
  persist(t: PooledTenant): Promise<void> | undefined {
    if (this.#persister === undefined) {
      // Memory storage: the open database is the data (kept when the tenant closes).
      t.changed = true;
      return undefined;
    }
    // Asked of SQLite, not guessed from statements: did the committed state change?
    if (!t.file.takeChanged()) return undefined;
    t.changed = true;
    return this.#persister
      .write(keys.tenant(t.info.id), () => this.#committedImage(t))
      .catch(async (e: unknown) => {
        await t.reverting;
        throw notKept(this.#storage, t.info.name, e);
      });
  }

  /**
   * A save of a tenant failed (strict durability): what was committed since its last durable
   * state is undone, in memory too, so no later read or save has it. Until then saves of it fail.
   */
  #saveFailed(key: string): void {
    const id = /([^/]+)\.db$/.exec(key)?.[1];
    const t = id === undefined ? undefined : this.#open.get(id);
    if (t === undefined && id !== undefined) this.#lender?.saveFailed(id);
    if (t === undefined || keys.tenant(t.info.id) !== key || t.reverting !== undefined) return;
    t.reverting = t.file.gate
      .hold(async () => this.#swapImage(t, await this.#durableImage(t)))
      .catch(() => {
        // Not even the durable state can be read back: close the tenant; its next use reloads it.
        if (this.#open.get(t.info.id) === t) this.#forgetTenant(t);
        t.file.close();
      })
      .finally(() => {
        t.reverting = undefined;
      });
  }

  /** The tenant's image as last saved (decrypted), or its starting image when never saved. */
  async #durableImage(t: PooledTenant): Promise<Uint8Array> {
    if (t.crypto === undefined) return (await this.#images.load(t.info)) ?? this.#images.empty();
    const sealed = await this.#storage.load(keys.tenant(t.info.id));
    if (sealed === undefined) throw new Error("no saved image");
    return this.#keys.open(t.crypto, t.info.id, sealed);
  }

  /**
   * The tenant's committed image, as a save stores it (export never waits for transactions of
   * other connections) — for a child, once its schema's last migration has its files synced
   * (see `settledFor`).
   */
  async #committedImage(t: PooledTenant): Promise<Uint8Array> {
    if (t.reverting !== undefined) {
      throw new TenantliteError("STORAGE_WRITE_FAILED", "an earlier save failed");
    }
    await this.settledFor(t.info);
    const plain = t.file.export();
    const before = t.bytes;
    const sealed = await this.seal(t, plain);
    this.#openBytes += t.bytes - before;
    return sealed;
  }

  /**
   * Notes when an oversized tenant was used, the only ones {@link OVERSIZED_KEEP_MS} concerns: a
   * clock read on every open was ~4 % of a point read. One that grows past the budget is noted
   * when it does (`seal`).
   */
  #noteUse(t: PooledTenant): void {
    if (t.bytes > this.#maxOpenBytes) t.usedAt = Date.now();
  }

  /** The bytes to store for a tenant: its image, encrypted when the tenant is. */
  seal(t: PooledTenant, plain: Uint8Array): Promise<Uint8Array> | Uint8Array {
    t.bytes = TENANT_OVERHEAD_BYTES + plain.length;
    this.#noteUse(t);
    if (t.crypto === undefined) return plain;
    return this.#keys.seal(t.crypto, t.info.id, plain);
  }

  /**
   * Waits until a save of this tenant cannot be undone by a crash: a child's files are rewritten
   * from its schema's last migration's stage by recovery until that migration's files are synced.
   */
  async settledFor(info: DatabaseInfo): Promise<void> {
    if (info.parent !== null) await this.#settling.settled(info.parent);
  }

  // ── images ──────────────────────────────────────────────────────────────

  /**
   * A tenant's current committed image (an encrypted one's decrypted with `secret`); an empty
   * database's image when it has none yet.
   */
  async imageOf(info: DatabaseInfo, secret?: string | Uint8Array): Promise<Uint8Array> {
    if (secret !== undefined && !info.encrypted) throw notEncrypted(info.name);
    if (info.encrypted) {
      const t = await this.openVerified(info.id, secret);
      try {
        return t.file.export();
      } finally {
        t.release();
      }
    }
    const start = await this.startingImage(info, false);
    return "image" in start ? start.image : this.#images.empty();
  }

  /**
   * An unencrypted tenant's current committed image — waiting for its transactions and flushing
   * its pending saves first — or, with `allowShared`, the key of the shared image it reads as it
   * stands (no file of its own yet, no changes in memory).
   */
  startingImage(
    info: DatabaseInfo,
    allowShared: boolean,
  ): Promise<{ image: Uint8Array } | { shared: string }> {
    return this.#home([info.id], () => this.#startingImageHere(info, allowShared));
  }

  async #startingImageHere(
    info: DatabaseInfo,
    allowShared: boolean,
  ): Promise<{ image: Uint8Array } | { shared: string }> {
    if (info.encrypted) return { image: await this.imageOf(info) };
    const open = this.#open.get(info.id);
    if (open !== undefined) {
      // With a persister (or no change since it opened) the stored image is the open one once
      // its transactions are over and its saves flushed: reading it is ~10× cheaper than an
      // export. Without one (memory storage) the open database alone has its changes.
      if (this.#persister === undefined && open.changed) {
        return { image: await open.file.gate.hold(() => open.file.export()) };
      }
      await open.file.gate.hold(() => undefined);
    }
    await this.#persister?.flush(keys.tenant(info.id));
    if (!allowShared) return { image: (await this.#images.load(info)) ?? this.#images.empty() };
    const own = await this.#images.loadOwn(info);
    if (own !== undefined) return { image: own };
    const base = this.#catalog.getBaseImage(info.id);
    return base === undefined ? { image: this.#images.empty() } : { shared: base };
  }

  /** Installs a new image for a tenant (migrations): durably, and in memory when it is open. */
  replaceImage(info: DatabaseInfo, bytes: Uint8Array): Promise<void> {
    return this.#home([info.id], () => this.#replaceImageHere(info, bytes));
  }

  async #replaceImageHere(info: DatabaseInfo, bytes: Uint8Array): Promise<void> {
    const key = keys.tenant(info.id);
    const t = this.#open.get(info.id);
    if (t === undefined) {
      await this.#storage.save(key, bytes);
      // An open that read the old file while this saved would hold the old image.
      await this.#swapIfOpened(info, () => bytes);
      return;
    }
    await t.file.gate.hold(async () => {
      await this.#persister?.flush(key);
      await this.#storage.save(key, await this.seal(t, bytes));
      this.#swapImage(t, bytes);
    });
  }

  /**
   * Installs new images for many tenants at once: a migration's apply phase, which keeps a durable
   * copy of every image in its staged packs until `synced` (so the storage may overwrite files in
   * place, torn by a crash until the job is rolled forward) and has writes to them blocked (and
   * their saves held until then). Reading these tenants' files waits until they are whole, which
   * is when this resolves. Open tenants nobody is using are closed rather than handed the new
   * image (the next use reopens them, which costs what a swap would, and only for tenants that
   * are used); busy ones get it in memory.
   */
  replaceImages(
    entries: readonly { info: DatabaseInfo; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }> {
    return this.#home(
      entries.map(({ info }) => info.id),
      () => this.#replaceImagesHere(entries),
    );
  }

  async #replaceImagesHere(
    entries: readonly { info: DatabaseInfo; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }> {
    let release = () => {};
    const rewritten = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ids = entries.map(({ info }) => info.id);
    this.#images.markRewriting(ids, rewritten);
    let kept: { t: PooledTenant; bytes: Uint8Array }[] = [];
    try {
      // Opens, closes and reads that began before the marks were set finish first.
      await Promise.all(
        entries.map(async ({ info }) => {
          await this.#opening.get(info.id)?.promise.catch(() => undefined);
          await this.#closing.get(info.id);
          await this.#images.readsSettled(info.id);
        }),
      );
      // Every open one is pinned: never evicted (and saved with its old image) meanwhile.
      for (const { info, bytes } of entries) {
        const t = this.#open.get(info.id);
        if (t === undefined) continue;
        t.pins++;
        kept.push({ t, bytes });
      }
      await Promise.all(entries.map(({ info }) => this.#persister?.flush(keys.tenant(info.id))));
      const writes = entries.map(({ info, bytes }) => ({ key: keys.tenant(info.id), bytes }));
      const written =
        this.#storage.overwriteMany !== undefined
          ? this.#storage.overwriteMany(writes)
          : Promise.all(writes.map((w) => this.#storage.save(w.key, w.bytes))).then(() => ({
              synced: Promise.resolve(),
            }));
      // While the files are written, open tenants nobody else uses are let go: their image is the
      // one the migration started from (writes are blocked), so nothing is saved.
      kept = kept.filter(({ t }) => {
        if (t.pins > 1 || t.file.gate.busy || t.file.connectionCount > 0) return true;
        t.release();
        this.#forgetTenant(t);
        this.#closeSoon(t.file);
        return false;
      });
      const { synced } = await written;
      for (const { t, bytes } of kept)
        await t.file.gate.hold(async () => this.#swapImage(t, bytes));
      return { synced };
    } finally {
      for (const { t } of kept) t.release();
      this.#images.unmarkRewriting(ids, rewritten);
      release();
    }
  }

  /**
   * Saves images over tenants' files, atomically and durably, and nothing else: tenants open in
   * memory are left as they are (a failed sync's redo, after the job was done).
   */
  async saveImages(entries: readonly { info: DatabaseInfo; bytes: Uint8Array }[]): Promise<void> {
    await this.#home(
      entries.map(({ info }) => info.id),
      async () => {
        for (const { info, bytes } of entries) {
          await this.#storage.save(keys.tenant(info.id), bytes);
        }
      },
    );
  }

  /**
   * Points tenants at shared images: their catalog records change in one tick (one log record);
   * open ones get the new image in memory. A tenant that got a file of its own meanwhile (it
   * would shadow the shared image) gets the image written to its file instead.
   */
  adoptSharedImages(entries: readonly { info: DatabaseInfo; key: string }[]): Promise<void> {
    return this.#home(
      entries.map(({ info }) => info.id),
      () => this.#adoptSharedImagesHere(entries),
    );
  }

  async #adoptSharedImagesHere(
    entries: readonly { info: DatabaseInfo; key: string }[],
  ): Promise<void> {
    const owners = new Set<string>();
    await Promise.all(
      entries.map(async ({ info }) => {
        if (await this.#storage.has(keys.tenant(info.id))) owners.add(info.id);
      }),
    );
    const records: Promise<void>[] = [];
    for (const { info, key } of entries) {
      if (!owners.has(info.id)) records.push(this.#catalog.putDatabase(info, key));
    }
    await Promise.all(records);
    for (const { info, key } of entries) {
      if (owners.has(info.id)) {
        await this.#replaceImageHere(info, await this.#images.requireShared(key));
      } else await this.#swapIfOpened(info, () => this.#images.requireShared(key));
    }
  }

  /** After a tenant's stored image changed: waits for an open in progress, swaps if open. */
  async #swapIfOpened(
    info: DatabaseInfo,
    bytes: () => Uint8Array | Promise<Uint8Array>,
  ): Promise<void> {
    await this.#opening.get(info.id)?.promise.catch(() => undefined);
    const t = this.#open.get(info.id);
    if (t === undefined) return;
    const image = await bytes();
    await t.file.gate.hold(async () => this.#swapImage(t, image));
  }

  /**
   * Replaces an open tenant's database in memory (the caller holds its gate): one write that its
   * connections see like another's commit. When SQLite cannot copy the image in (e.g. another page
   * size), the tenant is closed instead and its next use opens the stored image.
   */
  #swapImage(t: PooledTenant, bytes: Uint8Array): void {
    try {
      t.file.replace(bytes);
    } catch {
      if (this.#open.get(t.info.id) === t) this.#forgetTenant(t);
      t.file.close();
    }
  }

  // ── tenants on threads ──────────────────────────────────────────────────

  /**
   * Lets a tenant go to a thread: waits until nothing here uses it (opens, pins, transactions),
   * then closes it here with its saves flushed. The lender keeps it from being opened here again
   * meanwhile.
   */
  async handOff(id: string): Promise<void> {
    for (;;) {
      await this.#opening.get(id)?.promise.catch(() => undefined);
      await this.#closing.get(id);
      const t = this.#open.get(id);
      if (t === undefined) return;
      if (t.pins === 0 && !t.file.gate.busy && t.reverting === undefined) {
        await this.#closeTenant(t);
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * A thread's tenant image as the thread opens it: its stored image (decrypted with `secret`
   * when encrypted; undefined for a new, empty one) once its pending saves are flushed, and how
   * to seal its saves. The lender has handed it off first.
   */
  async readForThread(
    info: DatabaseInfo,
    secret: string | Uint8Array | undefined,
  ): Promise<{ bytes: Uint8Array | undefined; crypto: TenantCrypto | undefined }> {
    await this.#persister?.flush(keys.tenant(info.id));
    return this.#loader.read(info, secret);
  }

  /**
   * Saves a commit of a tenant open on a thread, as {@link persist} does for one open here:
   * resolves when durable (strict) or scheduled (relaxed); for a child, once its schema's last
   * migration has its files synced.
   */
  async saveForThread(
    info: DatabaseInfo,
    crypto: TenantCrypto | undefined,
    plain: Uint8Array,
  ): Promise<void> {
    const key = keys.tenant(info.id);
    const sealed = () => (crypto === undefined ? plain : this.#keys.seal(crypto, info.id, plain));
    await this.settledFor(info);
    if (this.#persister === undefined) {
      await this.#storage.save(key, await sealed());
      return;
    }
    await this.#persister.write(key, sealed).catch((e: unknown) => {
      throw notKept(this.#storage, info.name, e);
    });
  }

  // ── closing ─────────────────────────────────────────────────────────────

  /** A deleted database: its pending save is dropped, it is closed if open, its file deleted. */
  delete(info: DatabaseInfo): Promise<void> {
    return this.#home([info.id], () => this.#deleteHere(info));
  }

  async #deleteHere(info: DatabaseInfo): Promise<void> {
    // A pending relaxed save must not bring the deleted tenant back.
    await this.#persister?.discard(keys.tenant(info.id));
    const open = this.#open.get(info.id);
    if (open !== undefined) {
      this.#open.delete(info.id);
      this.#openBytes -= open.bytes;
      open.file.close();
    }
    this.#openByName.delete(info.name);
    this.#openByName.delete(info.id);
    await this.#storage.delete(keys.tenant(info.id));
  }

  /** From now on, opening a tenant fails with `PLATFORM_CLOSED`. */
  stop(): void {
    this.#stopped = true;
  }

  /** Flushes pending writes and closes every tenant. */
  async close(): Promise<void> {
    for (const db of this.#toClose.splice(0)) db.close();
    for (const t of [...this.#open.values()]) await this.#closeTenant(t);
    await this.#persister?.close();
  }

  /** Whether `t` is bigger than the whole memory budget and was used lately (kept outside it). */
  #oversizedInUse(t: PooledTenant, now: number): boolean {
    return t.bytes > this.#maxOpenBytes && now - t.usedAt < OVERSIZED_KEEP_MS;
  }

  /**
   * Closes idle tenants, least recently used first, while more are open than `maxOpenTenants` or
   * they hold more than `maxOpenBytes` — not counting a tenant bigger than that budget while it
   * is in use (see {@link OVERSIZED_KEEP_MS}), which only the count may close.
   */
  async #evictIfOverBudget(): Promise<void> {
    const tooMany = () => this.#open.size > this.#maxOpen;
    if (!tooMany() && this.#openBytes <= this.#maxOpenBytes) return;
    const now = Date.now();
    let kept = 0;
    for (const t of this.#open.values()) if (this.#oversizedInUse(t, now)) kept += t.bytes;
    const tooBig = () => this.#openBytes - kept > this.#maxOpenBytes;
    // One pass over the open tenants per tenant closed (usually one), not a sorted copy of them
    // all: idle ones are found as they are now, after the closes before.
    const passed = new Set<PooledTenant>();
    while (tooMany() || tooBig()) {
      let lru: PooledTenant | undefined;
      for (const t of this.#open.values()) {
        if (t.pins > 0 || t.file.gate.busy || passed.has(t)) continue;
        if (lru === undefined || t.lastUsed < lru.lastUsed) lru = t;
      }
      if (lru === undefined) return;
      const oversized = this.#oversizedInUse(lru, now);
      if (oversized && !tooMany()) {
        passed.add(lru);
        continue;
      }
      await this.#closeTenant(lru);
      if (oversized) kept -= lru.bytes;
    }
  }

  async #closeTenant(t: PooledTenant): Promise<void> {
    if (this.#open.get(t.info.id) !== t) return;
    this.#forgetTenant(t);
    const done = this.#flushAndClose(t).finally(() => this.#closing.delete(t.info.id));
    this.#closing.set(t.info.id, done);
    await done;
  }

  /** Closes a database that nothing references any more, in the background (see `toClose`). */
  #closeSoon(db: { close(): void }): void {
    this.#toClose.push(db);
    if (this.#toClose.length > 1) return;
    const drain = () => {
      for (let n = 0; n < 32 && this.#toClose.length > 0; n++) this.#toClose.pop()!.close();
      if (this.#toClose.length > 0) setTimeout(drain, 0);
    };
    setTimeout(drain, 0);
  }

  /** Removes an open tenant from the open set (the caller closes its database). */
  #forgetTenant(t: PooledTenant): void {
    this.#open.delete(t.info.id);
    this.#openBytes -= t.bytes;
    this.#openByName.delete(t.info.name);
    this.#openByName.delete(t.info.id);
  }

  async #flushAndClose(t: PooledTenant): Promise<void> {
    const key = keys.tenant(t.info.id);
    if (this.#persister !== undefined) await this.#persister.flush(key);
    else if (t.changed && this.#catalog.getDatabase(t.info.id) !== undefined) {
      // Memory storage: the open database was the data; keep its image (unchanged ones already are).
      await this.#storage.save(key, await this.seal(t, t.file.export()));
    }
    t.file.close();
  }
}

/** `STORAGE_WRITE_FAILED`: a commit's save failed, so the write was not kept. */
function notKept(storage: Storage, name: string, cause: unknown): TenantliteError {
  return new TenantliteError(
    "STORAGE_WRITE_FAILED",
    `saving database "${name}" failed, so the write was not kept: the database is back at its last saved state (${roomAdvice(storage)})`,
    { cause },
  );
}
