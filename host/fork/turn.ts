// Claiming the fork control block in turn. One fork at a time holds the block
// (host/fork/protocol.ts), and a thread that forks in a loop releases it, reaps
// its child and claims it again within a couple of ms, before another forking
// thread woken by the release has been given a core: with two threads forking in
// loops on a busy machine, one waited through 5–11 of the other's forks, ~100 ms
// (docs/FORK.md, "Two threads forking in loops"). So a thread whose claim fails
// names itself in CTL_NEXT, and every other thread lets it claim first.
//
// | CTL_NEXT  | mover                                                  | how          |
// |-----------|--------------------------------------------------------|--------------|
// | 0 → h     | forking thread h, when its claim failed                | CAS          |
// | h → 0     | thread h, once it holds the block or gives up          | CAS + notify |
// | h → 0     | any forking thread, once h is no longer live           | CAS + notify |
//
// A turn holds the others back for TURN_WAIT_MS at most, so a named thread that
// does not come (a page's main thread busy elsewhere) costs a bounded wait, and
// the block itself is still claimed by CAS alone: turns order the claims, they
// never decide who holds the block.
import { ForkError } from '../errors.js';
import { CTL_NEXT, CTL_STATE, ST_IDLE, claim, takeOver } from './protocol.js';
import type { Step, Steps } from '../steps.js';

export const TURN_WAIT_MS = 50;
const CLAIM_WAIT_MS = 60_000;

/** What claiming needs of the forking thread: its handle, which handles are live, a detached wait on a control word. */
export interface Claimant {
  readonly handle: number;
  isLive(h: number): boolean;
  wait(word: number, value: number, ms: number): Step;
}

const endTurn = (ctl: Int32Array, h: number): void => {
  if (Atomics.compareExchange(ctl, CTL_NEXT, h, 0) === h) Atomics.notify(ctl, CTL_NEXT);
};

/** Claims the block, after the thread whose turn it is (a claim whose owner died is taken over); the ms it waited. */
export function* claimInTurn(ctl: Int32Array, t: Claimant, sliceMs: number): Steps<number> {
  const t0 = performance.now();
  for (let next = Atomics.load(ctl, CTL_NEXT); next !== 0 && next !== t.handle; next = Atomics.load(ctl, CTL_NEXT)) {
    const left = t0 + TURN_WAIT_MS - performance.now();
    if (!t.isLive(next)) endTurn(ctl, next);
    else if (left <= 0) break;
    else yield t.wait(CTL_NEXT, next, left);
  }
  try {
    while (!(claim(ctl, t.handle) || takeOver(ctl, t.handle, (h) => h !== t.handle && t.isLive(h)))) {
      if (performance.now() > t0 + CLAIM_WAIT_MS) throw new ForkError('E_FORK', `another fork held the fork control block for ${CLAIM_WAIT_MS} ms`);
      Atomics.compareExchange(ctl, CTL_NEXT, 0, t.handle);
      // a release between the failed claim and this load leaves IDLE, which only a claim would change: claim again
      const s = Atomics.load(ctl, CTL_STATE);
      if (s !== ST_IDLE) yield t.wait(CTL_STATE, s, sliceMs);
    }
  } finally {
    endTurn(ctl, t.handle);
  }
  return performance.now() - t0;
}
