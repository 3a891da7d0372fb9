// A fork child, whatever it runs in (an OS process under Node, a worker group
// under Node's 'thread' isolation or in a page): what it does while it waits
// in the pool, and what it does once its snapshot arrives.
//
// Everything that does not depend on the snapshot's bytes happens in
// `prepareChild`, before any request: the memory (sized like the parent's),
// the core and linked-module instances over it, the runtime object but its
// handle, the continuation's import, and the checksum warmed up to its
// optimised code. After the snapshot arrives, `ChildSession.restore` reads the
// live pages straight into that memory and checks them (work proportional to
// the live pages, at memory speed), and `run` calls after_fork_child, the
// continuation's afterForkChild hook, acknowledges, and runs the continuation.
//
// What a user observes of a child is its pid and its exit status (waitpid):
// the continuation's result (0…255), 70 when it throws, 128 + n when killed by
// signal n. A child whose snapshot is rejected was never acknowledged: the
// fork throws E_SNAPSHOT and there is no pid to wait for.
import { createSharedMemory, instantiateCore } from '../core.js';
import type { LinkedModules } from '../modules.js';
import type { ForkChildOptions, Platform } from '../platform.js';
import type { CoreExports } from '../core.js';
import { ForkError } from '../errors.js';
import { PAGE } from './protocol.js';
import { checksumOver } from './checksum.js';
import { trace } from './trace.js';
import type { ParentCallMessage, ParentCaller } from './parent-calls.js';
import {
  SnapshotError, checksum32, decodeSnapshot, encodeSnapshot, memoryChecksum, pageClear, readHead, restorePages, verifyPages, zeroTest,
  type SnapshotInfo,
} from './snapshot.js';

/** The child's timings as it reports them in its acknowledgement, in µs. */
export interface ChildAck { readUs: number; restoreUs: number }

/** Messages a child sends its fork server. */
export type ChildEvent =
  | { type: 'ready' }
  | ({ type: 'ack' } & ChildAck)
  | { type: 'error'; message: string }
  /** `recycled`: its program ended and left nothing behind; this carrier warms up the next child. */
  | { type: 'exit'; code: number; recycled?: boolean }
  /** A call to the parent's side (host/fork/parent-calls.ts), answered with a 'reply'. */
  | ParentCallMessage;

/** The child's runtime, as this file uses it (host/runtime.ts Runtime). */
export interface ChildRuntime {
  readonly main: unknown;
  exit(code: number): Promise<never>;
}

/**
 * How a child makes its runtime before its snapshot arrives (Runtime.prepareForkChild,
 * handed in by the platform's child entry: the fork subsystem never imports the runtime).
 */
export type PrepareRuntime<R extends ChildRuntime> = (
  platform: Platform, module: WebAssembly.Module, memory: WebAssembly.Memory, core: CoreExports, config: ForkChildOptions,
  maximumPages: number, linkedModules: LinkedModules,
) => { adopt(handle: number): R; warmWorker?(job: string): void };

export interface ChildWarmOptions<R extends ChildRuntime> {
  platform: Platform;
  prepareRuntime: PrepareRuntime<R>;
  module: WebAssembly.Module;
  linkedModules: LinkedModules;
  /** The parent's memory size and maximum at the time the child was started. */
  pages: number;
  maximumPages: number;
  config: ForkChildOptions;
}

// 512 checksums of one page in SIMD (32 MiB of work, a few ms while nobody
// waits): enough for the engine's optimising tier. The JavaScript checksum
// only sees the snapshot's meta region.
const WARM_PAGES = 512;
const OS_PAGE = 4096;

/** Everything a pooled child makes before its request. */
export async function prepareChild<R extends ChildRuntime>(o: ChildWarmOptions<R>): Promise<ChildSession<R>> {
  // the codec's paths once, on a scratch memory, then the checksum and the zero scan hot
  const scratch = createSharedMemory(4, 4);
  await instantiateCore(o.module, scratch);
  const { restore } = decodeSnapshot(encodeSnapshot(scratch.buffer, 4, 0, '{}'));
  restore(new ArrayBuffer(scratch.buffer.byteLength));
  const words = new Int32Array(scratch.buffer);
  const page = words.subarray(0, PAGE / 4);
  const sum = checksumOver(scratch);
  for (let i = 0, h = 0; i < WARM_PAGES; i++) h = sum(0, PAGE / 4, h);
  for (let i = 0, h = 0; i < WARM_PAGES / 32; i++) h = checksum32(page, h);
  const isZero = zeroTest(scratch);
  for (let i = 0; i < 64; i++) isZero(i & 3);
  const cont = (await import(o.config.continuation)) as Record<string, unknown>;
  return prepareSession(o, cont, o.pages);
}

/**
 * What a recycled carrier keeps from its last child: the pages instantiation
 * dirties, and the memory itself when the child left it at the parent's size.
 */
interface Previous { instantiated: number[]; memory?: WebAssembly.Memory }

// What one child needs of its own: a memory of `pages` as a fresh one (all
// zero), the instances over it, the runtime object but its handle, and the
// pages those instances dirtied, which the restore zeroes where the snapshot
// leaves them out (zero in the parent). A fresh memory costs a page fault per
// 4 KiB the restore writes (on a VM, where each one is a trip to the host,
// 3 ms per MiB: most of a 4 MiB Lua fork's round trip), so a recycled carrier
// keeps its memory and zeroes, while nobody waits, every page its last child
// left non-zero (a page in use is told from a zero one by its first words);
// the pages stay mapped.
async function prepareSession<R extends ChildRuntime>(
  o: ChildWarmOptions<R>, cont: Record<string, unknown>, pages: number, previous?: Previous,
): Promise<ChildSession<R>> {
  const memory = previous?.memory ?? new WebAssembly.Memory({ initial: pages, maximum: o.maximumPages, shared: true });
  const isZero = zeroTest(memory);
  const nonZero = (): number[] => {
    const out = [];
    for (let p = 0; p < memory.buffer.byteLength / PAGE; p++) if (!isZero(p)) out.push(p);
    return out;
  };
  if (previous?.memory) nonZero().forEach(pageClear(memory));
  else {
    // Touched now, so the restore does not take a page fault per 4 KiB it
    // writes (that halves a read into fresh memory, measured).
    const mem = new Int32Array(memory.buffer);
    for (let i = 0; i < mem.length; i += OS_PAGE / 4) Atomics.or(mem, i, 0);
  }
  const core = await instantiateCore(o.module, memory);
  const prepared = o.prepareRuntime(o.platform, o.module, memory, core, o.config, o.maximumPages, o.linkedModules);
  // the continuation's own instances over this memory, and the workers of its first jobs, made now rather than on the fork's path
  if (typeof cont.prepare === 'function') {
    await cont.prepare({ memory, core, data: o.config.prepareData, warmWorker: (job: string) => prepared.warmWorker?.(job) });
  }
  // The instances' data segments dirtied a few pages. The same modules dirty
  // the same pages every time: a recycled carrier scans once.
  return new ChildSession(o, memory, prepared, previous?.instantiated ?? nonZero(), cont);
}

/** A prepared child, waiting for its snapshot. */
export class ChildSession<R extends ChildRuntime> {
  #t0 = 0;
  #t1 = 0;
  #info?: SnapshotInfo;
  #ctx?: Record<string, unknown>;

  constructor(
    private readonly o: ChildWarmOptions<R>,
    readonly memory: WebAssembly.Memory,
    private readonly prepared: { adopt(handle: number): R; warmWorker?(job: string): void },
    /** The pages its instances dirtied: the only ones not zero before the restore. */
    private readonly instantiated: number[],
    private readonly cont: Record<string, unknown>,
  ) {}

  /**
   * Validates the header and meta (`head`: the snapshot's first `pagesAt`
   * bytes at least; `total`: its whole length), grows the memory to the
   * parent's size, reads the live pages with `read` (restorePages) and checks
   * them. Throws SnapshotError for a snapshot to reject.
   */
  restore(head: Uint8Array, total: number, read: (into: Uint8Array, at: number) => void): SnapshotInfo {
    this.#t0 = performance.now();
    const info = readHead(head, total);
    if (info.maximumPages !== this.o.maximumPages) {
      throw new SnapshotError(`snapshot of a memory of ${info.maximumPages} pages at most, this child has ${this.o.maximumPages}`);
    }
    const have = this.memory.buffer.byteLength;
    if (info.memoryBytes > have) this.memory.grow((info.memoryBytes - have) / PAGE);
    else if (info.memoryBytes < have) throw new SnapshotError(`snapshot of ${info.memoryBytes} bytes, smaller than the memory it is read into`);
    restorePages(info, this.memory.buffer, read);
    trace('C', 'read');
    verifyPages(head, info, this.memory);
    if (this.instantiated.length) {
      const live = new Set(info.pages);
      const clear = pageClear(this.memory);
      for (const p of this.instantiated) if (!live.has(p)) clear(p);
    }
    this.#info = info;
    this.#t1 = performance.now();
    return info;
  }

  /**
   * The forking thread continues: after_fork_child, the continuation's
   * afterForkChild hook, `ack`, then the continuation. Resolves with the
   * child's exit status (the continuation's result, or 0); the caller closes
   * the runtime (`rt.exit`) and ends the child with it. `pid`: the child's,
   * as the server numbered it (the continuation's ctx.pid). `caller`: the
   * platform's link to the fork server, the ctx's `callParent`.
   */
  async run(ack: (a: ChildAck) => void | Promise<void>, pid: number | undefined, caller: ParentCaller): Promise<{ runtime: R; code: number }> {
    const info = this.#info!;
    const flags = JSON.parse(info.options) as { data: unknown; verify: boolean };
    const restoredChecksum = flags.verify ? memoryChecksum(this.memory) : undefined;
    const runtime = this.prepared.adopt(info.handle);
    trace('C', 'adopted');
    const name = this.o.config.exportName ?? 'default';
    const fn = this.cont[name];
    if (typeof fn !== 'function') throw new ForkError('E_FORK', `${this.o.config.continuation} exports no function ${name}`);
    const ctx = { runtime, thread: runtime.main, result: 0, data: flags.data, restoredChecksum, pid, callParent: (body: unknown) => caller.call(body) };
    this.#ctx = ctx;
    if (typeof this.cont.afterForkChild === 'function') await this.cont.afterForkChild(ctx);
    const t2 = performance.now();
    trace('C', 'hooked');
    await ack({ readUs: Math.round((this.#t1 - this.#t0) * 1000), restoreUs: Math.round((t2 - this.#t1) * 1000) });
    const code = await fn(ctx);
    return { runtime, code: typeof code === 'number' ? code : 0 };
  }

  /** Whether the continuation module may serve another child in this carrier: it exports `recycle`. */
  get recyclable(): boolean {
    return typeof this.cont.recycle === 'function';
  }

  /**
   * After the child's program ended and its runtime closed: the
   * continuation's `recycle(ctx)` releases what the child held outside the
   * memory (its files, say). The caller then checks what its platform can
   * check (docs/FORK.md, "Recycled children") before it reports the status.
   */
  async release(): Promise<void> {
    await (this.cont.recycle as (ctx: unknown) => unknown)(this.#ctx);
  }

  /**
   * The next child's session: nothing of this child's memory (zeroed, or a
   * new one), instances or runtime reaches it; the compiled modules and the
   * continuation module are kept.
   */
  next(): Promise<ChildSession<R>> {
    const info = this.#info!;
    // the parent's memory had grown to the snapshot's size: the next one is at least as large
    const pages = Math.max(this.o.pages, info.memoryBytes / PAGE);
    // a memory never shrinks: one the child grew past its parent's size is dropped
    const keep = this.memory.buffer.byteLength === info.memoryBytes;
    return prepareSession(this.o, this.cont, pages, { instantiated: this.instantiated, memory: keep ? this.memory : undefined });
  }
}
