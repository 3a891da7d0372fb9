// The fork faults the tests inject, one per failure path of a fork: a child
// that cannot start (E_SPAWN), one that dies before its ack (E_CHILD_DIED), a
// hand-off slower than the ack deadline (E_ACK_TIMEOUT), a corrupt, truncated
// or foreign-ABI snapshot (E_SNAPSHOT), a server that exits or throws
// mid-request (E_SERVER_DIED). The server's faults are its test hooks
// (host/fork/hooks.ts): this module is the hooks module a test's platform
// names, so the fork server loads it (no production path does); the fault of
// the next request is a word shared with it. A death before the ack is the
// test continuation's own (tests/jobs/fork-child.ts, data.dieBeforeAck).
// Loaded in a page and its fork server too: nothing here is Node's.
import { CTL_SNAPSHOT_BYTES, serverGone } from '../../host/fork/protocol.js';
import { H, HEADER_WORDS } from '../../host/fork/snapshot.js';
import type { ForkHookContext, ForkRequestHooks, ForkServerHooks } from '../../host/fork/hooks.js';
import type { ForkOptions } from '../../host/fork/request.js';
import type { ForkServerInit, Platform } from '../../host/platform.js';

/** The faults the server's hooks inject, numbered from 1 in the shared word (0: none). */
const SERVER_FAULTS = ['spawn', 'corrupt', 'truncate', 'abi', 'server-exit', 'server-throw', 'slow-transfer'] as const;
export type ForkFault = (typeof SERVER_FAULTS)[number] | 'die-before-ack';

/** How long 'slow-transfer' holds the hand-off back: past a short ack deadline. */
const SLOW_TRANSFER_MS = 200;
/** Bytes 'truncate' cuts off the snapshot's end. */
const TRUNCATED_BYTES = 4096;

/** The faults of one test file: a platform whose fork servers load them, and the next fork's fault. */
export class ForkFaults {
  readonly #next = new Int32Array(new SharedArrayBuffer(4));

  /** `inner` with fork servers that load these faults' hooks. */
  platform(inner: Platform): Platform {
    const start = inner.startForkServer;
    if (!start) throw new Error('the platform starts no fork server');
    const testHooks = { module: import.meta.url, data: this.#next.buffer };
    const outer = Object.create(inner) as Platform;
    outer.startForkServer = function startForkServer(this: Platform, init: ForkServerInit) {
      return start.call(this, { ...init, testHooks });
    };
    return outer;
  }

  /** Calls `fork` (one fork, either form) with `fault` injected into it. */
  inject<T>(fault: ForkFault, fork: (opts: ForkOptions) => T, opts: ForkOptions = {}): T {
    if (fault === 'die-before-ack') return fork({ ...opts, data: { ...(opts.data as object | undefined), dieBeforeAck: true } });
    Atomics.store(this.#next, 0, SERVER_FAULTS.indexOf(fault) + 1);
    // the server takes the fault with the request; one never taken (the fork refused) must not stay for the next
    const clear = () => void Atomics.store(this.#next, 0, 0);
    let r: T;
    try {
      r = fork(opts);
    } catch (e) {
      clear();
      throw e;
    }
    if (r instanceof Promise) return r.finally(clear) as T;
    clear();
    return r;
  }
}

/** The hooks module's export (host/fork/hooks.ts), in the fork server's thread. */
export function forkServerHooks(ctx: ForkHookContext): ForkServerHooks {
  const next = new Int32Array(ctx.data as SharedArrayBuffer);
  const ctl = ctx.control;
  const damage = (apply: (staged: Uint8Array) => number): ForkRequestHooks => ({ beforeHandoff: async (s) => apply(s) });
  const plans: Record<(typeof SERVER_FAULTS)[number], () => Promise<ForkRequestHooks>> = {
    spawn: async () => ({ brokenChild: true }),
    // the staged bytes are this request's only: the child (or the server's own transfer) reads them after this
    corrupt: async () => damage((s) => {
      s[s.byteLength - 1] ^= 0xff;
      return s.byteLength;
    }),
    abi: async () => damage((s) => {
      new Uint32Array(s.buffer, s.byteOffset, HEADER_WORDS)[H.ABI] += 1;
      return s.byteLength;
    }),
    truncate: async () => damage((s) => {
      const n = s.byteLength - TRUNCATED_BYTES;
      Atomics.store(ctl, CTL_SNAPSHOT_BYTES, n); // what a child reading the staging area takes
      return n;
    }),
    'slow-transfer': async () => ({
      beforeHandoff: (s) => new Promise((r) => setTimeout(() => r(s.byteLength), SLOW_TRANSFER_MS)),
    }),
    'server-exit': () => {
      serverGone(ctl, 'fault injected: server-exit');
      ctx.exit(3);
      return new Promise<never>(() => {});
    },
    // an uncaught throw on the server thread, with this request taken and never finished
    'server-throw': () => {
      setTimeout(() => { throw new Error('fault injected: server-throw'); });
      return new Promise<never>(() => {});
    },
  };
  return {
    request() {
      const fault = SERVER_FAULTS[Atomics.exchange(next, 0, 0) - 1];
      return fault ? plans[fault]() : Promise.resolve(undefined);
    },
  };
}
