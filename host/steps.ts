// The one step runner. An algorithm that waits (stop, fork, waitpid, lock) is
// written once, as a generator of the steps at which it waits or may block;
// runBlocking performs each step in the calling thread (Atomics.wait, the
// blocking twin of a call), runAsync without blocking it (waitAsync or the
// platform's relays, the async twin). A step that throws is thrown back into
// the generator at that step, whichever runner took it, so the algorithm's
// own try/finally decides what a failure undoes.
import { waitAsync } from './wait.js';

/** Wait while `i32[index]` holds `value`, at most `ms`; a blocking runner first spins `spins` loads. */
export interface WaitStep {
  i32: Int32Array;
  index: number;
  value: number;
  ms: number;
  spins?: number;
}

/** Something that blocks, in its two forms. */
export interface CallStep {
  sync(): void;
  async(): Promise<void>;
}

export type Step = WaitStep | CallStep;
export type Steps<T> = Generator<Step, T, void>;

const isWait = (s: Step): s is WaitStep => 'i32' in s;

function spinThenWait(s: WaitStep): void {
  let spins = 0;
  const limit = s.spins ?? 0;
  while (spins < limit && Atomics.load(s.i32, s.index) === s.value) spins++;
  if (spins === limit) Atomics.wait(s.i32, s.index, s.value, s.ms);
}

/** Runs `g` to its end on the calling thread, blocking in each step. */
export function runBlocking<T>(g: Steps<T>): T {
  for (let r = g.next(); ; ) {
    if (r.done) return r.value;
    const step = r.value;
    let failure: { e: unknown } | undefined;
    try {
      if (isWait(step)) spinThenWait(step);
      else step.sync();
    } catch (e) {
      failure = { e };
    }
    r = failure ? g.throw(failure.e) : g.next();
  }
}

/** Runs `g` to its end without ever blocking the calling thread. */
export async function runAsync<T>(g: Steps<T>): Promise<T> {
  for (let r = g.next(); ; ) {
    if (r.done) return r.value;
    const step = r.value;
    let failure: { e: unknown } | undefined;
    try {
      if (isWait(step)) await waitAsync(step.i32, step.index << 2, step.value, step.ms);
      else await step.async();
    } catch (e) {
      failure = { e };
    }
    r = failure ? g.throw(failure.e) : g.next();
  }
}
