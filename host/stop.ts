// A registered thread's stop-the-world, driving the core's steps
// (assembly/world.ts: stop_arm, stop_try_begin, stop_wait_addr, stop_step,
// stop_abandon / stop_abandon_try), as the core's own blocking `stop` does:
// the deadline and the fairness back-off are decided in those steps, so a
// C embedder, a Node thread and a page get one behaviour. A caller that is
// attached stops blocking through the core's `stop`, which drives those steps
// in Wasm: one call, nothing allocated. Every other stop (an idle thread's,
// which the steps attach for the stop's duration, and every async stop) runs
// the steps as a generator through host/steps.ts, blocking or not.
import type { CoreExports } from './core.js';
import { AbortedError, ERRNO, check, errorFor } from './errors.js';
import { STATE_MASK, ST_ATTACHED, ST_REGISTERING, W_SUSPEND_EPOCH, slotAddr } from './layout.js';
import { runAsync, runBlocking, type Steps } from './steps.js';
import { waitAsync } from './wait.js';

/** Longest wait between two steps: the steps decide the deadline, so it is overrun by at most this. */
const SLICE_MS = 1;
// a blocking stop spins this many loads on the suspend epoch before it sleeps
const SPINS = 2000;

/** What a stop needs of the thread that asks for it. */
export interface StoppingThread {
  readonly core: CoreExports;
  readonly handle: number;
  readonly i32: Int32Array;
  /** The main thread idles detached: a stop attaches it for the stop's duration. */
  readonly idleDetached: boolean;
  attach(): void;
  attachAsync(): Promise<void>;
  detach(): void;
}

/** One thread's stops: the steps, and the attachment a stop made for its duration. */
export class Stopper {
  #attachedForStop = false;

  constructor(private readonly t: StoppingThread) {}

  stop(what: string, timeoutMs: number): void {
    if (!this.#attached()) return runBlocking(this.#steps(what, timeoutMs));
    // it answers E_BUSY re-attached, as the steps below do for an attached caller
    const r = this.t.core.stop(this.t.handle, timeoutMs);
    if (r !== 0) throw stopFailure(this.t.core, r, what, timeoutMs);
  }

  stopAsync(what: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return runAsync(this.#steps(what, timeoutMs, signal));
  }

  start(what: string): void {
    check(this.t.core.start(this.t.handle), what, 'stop');
    this.#afterStart();
  }

  async startAsync(what: string): Promise<void> {
    await this.#release((h) => this.t.core.start_try(h), what);
    this.#afterStart();
  }

  #attached(): boolean {
    return (this.t.core.thread_state(this.t.handle) & STATE_MASK) === ST_ATTACHED;
  }

  *#steps(what: string, timeoutMs: number, signal?: AbortSignal): Steps<void> {
    const { core, handle, i32 } = this.t;
    const wasAttached = this.#attached();
    if (!wasAttached && !this.t.idleDetached) check(ERRNO.E_STATE, `${what}: the calling thread is detached`, 'stop');
    check(core.stop_arm(handle, timeoutMs), what, 'stop');
    try {
      for (;;) {
        if (signal?.aborted) throw new AbortedError(signal.reason);
        const r = core.stop_try_begin(handle);
        if (r === 0) break;
        if (r !== ERRNO.E_WOULD_BLOCK) throw stopFailure(core, r, what, timeoutMs);
        const addr = check(core.stop_wait_addr(handle), what, 'stop');
        if (addr > 0) yield { i32, index: addr >> 2, value: Atomics.load(i32, addr >> 2), ms: SLICE_MS };
      }
    } catch (e) {
      // the answer is decided; the caller leaves as it came (a parked one re-attaches)
      if (!wasAttached && this.#attached()) this.t.detach();
      if (wasAttached && !this.#attached()) yield { sync: () => this.t.attach(), async: () => this.t.attachAsync() };
      throw e;
    }
    this.#attachedForStop = !wasAttached;
    for (;;) {
      const epoch = Atomics.load(i32, W_SUSPEND_EPOCH >> 2);
      const pending = core.stop_step(handle);
      if (pending === 0) return;
      if (pending === ERRNO.E_TIMEOUT || signal?.aborted) {
        yield {
          sync: () => void check(core.stop_abandon(handle), 'stop_abandon', 'stop'),
          async: () => this.#release((h) => core.stop_abandon_try(h), 'stop_abandon_try'),
        };
        this.#afterStart();
        if (signal?.aborted) throw new AbortedError(signal.reason);
        throw stopFailure(core, ERRNO.E_TIMEOUT, what, timeoutMs);
      }
      check(pending, what, 'stop');
      yield { i32, index: W_SUSPEND_EPOCH >> 2, value: epoch, ms: SLICE_MS, spins: SPINS };
    }
  }

  // A stop that attached this thread for its duration detaches it again.
  #afterStart(): void {
    if (this.#attachedForStop) {
      this.#attachedForStop = false;
      if (this.#attached()) this.t.detach();
    }
  }

  // Drives a non-blocking release (start_try, stop_abandon_try) to its end:
  // E_WOULD_BLOCK means a slot is still REGISTERING, so wait for that slot's
  // word to change (bounded) and call again.
  async #release(step: (h: number) => number, what: string): Promise<void> {
    for (;;) {
      const r = step(this.t.handle);
      if (r !== ERRNO.E_WOULD_BLOCK) {
        check(r, what, 'stop');
        return;
      }
      await waitForRegistering(this.t.i32, this.t.core.capacity());
    }
  }
}

/** The error for a stop's answer `r` < 0 (E_TIMEOUT after the world was restored). */
function stopFailure(core: CoreExports, r: number, what: string, timeoutMs: number): Error {
  if (r === ERRNO.E_BUSY) return errorFor(r, `${what}: another thread held the stop past the deadline of ${timeoutMs} ms`, 'stop');
  if (r === ERRNO.E_TIMEOUT) return errorFor(r, what, 'stop', { stragglers: stragglers(core), timeoutMs });
  return errorFor(r, what, 'stop');
}

/** Handles named by the last stop timeout. */
export function stragglers(core: CoreExports): number[] {
  const n = core.straggler_count();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const h = core.straggler(i);
    if (h > 0) out.push(h);
  }
  return out;
}

/** Resolves when a REGISTERING slot's word changes, or after a short bound; at once when none registers. */
export async function waitForRegistering(i32: Int32Array, capacity: number): Promise<void> {
  for (let i = 0; i < capacity; i++) {
    const addr = slotAddr(i);
    const w = Atomics.load(i32, addr >> 2);
    if ((w & STATE_MASK) === ST_REGISTERING) return waitAsync(i32, addr, w, 5);
  }
}
