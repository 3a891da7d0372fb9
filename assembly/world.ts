// Stop-the-world.
//
// Invariant: at most one requester at a time, the handle stored in
// W_EXCLUSION (taken by CAS 0 → handle, released by its owner with a store of
// 0 and a notify). While it holds it:
//   begin  W_REQUESTED = 1, then park passes: DETACHED → SUSPENDED, set STOP on
//          ATTACHED; a pass counts the slots not yet settled (ATTACHED or
//          REGISTERING) and, if any, stores the stop hooks' signal words
//          (hooks.ts: a VM thread that never polls). Attached threads suspend
//          themselves at their next poll and bump W_SUSPEND_EPOCH, which the
//          requester waits on between passes (reading the epoch before the
//          pass, so no wake-up is lost).
//   stopped when a pass finds nothing pending: W_STOPPED = 1.
//   start  W_STOPPED = 0, then W_REQUESTED = 0, before anyone is resumed
//          (is_stopped() never reads 1 while a thread runs); then
//          SUSPENDED → DETACHED and notify each word, then the stop hooks'
//          wake words (hooks.ts); REGISTERING slots are waited out (for at
//          most 50 ms: one whose registrant died would otherwise hold the
//          start forever; a live one that settles SUSPENDED after the pass
//          resumes itself, see state.ts healOrphan); then release W_EXCLUSION.
//   deadline: the requester records the stragglers, then restores exactly as
//          start does (STOP withdrawn from ATTACHED words) and releases.
// The requester stays ATTACHED throughout; while it waits for another
// requester's turn it is DETACHED, so that requester can park it.
// The stop is written once, as steps (stop_arm, stop_try_begin,
// stop_wait_addr, stop_step, stop_abandon / stop_abandon_try): the deadline
// and the fairness back-off are decided inside them, and every form drives
// the same steps, waiting its own way between them: the blocking `stop`
// below in atomic.wait, the host's sync and async stops in Atomics.wait or
// waitAsync (host/stop.ts). No step blocks, so no form overruns the deadline
// by more than one wait slice; a caller that another stop parked is
// answered E_BUSY still parked (it re-attaches as any attach does).
// Fairness: a thread resumed by a start needs a futex wake-up (tens of µs) to
// re-attach, while a requester can begin the next stop at once and park it
// again, so under a storm of stops it could wait indefinitely. An armed
// stop_try_begin therefore backs off (detached) while some slot is DETACHED
// with SL_REATTACH set, i.e. resumed but not yet re-attached, until
// REATTACH_BACKOFF_MS after the last start (W_RESUMED_MS); the re-attaching
// thread clears the flag and notifies its word.

import {
  W_EXCLUSION, W_REQUESTED, W_STOPPED, W_SUSPEND_EPOCH, W_STRAGGLERS, W_STOP_BEGAN_MS,
  W_FORCED_PARKS, W_SELF_SUSPENDS, W_ATTACH_WAITS, W_RESUMED_MS, STRAGGLERS, MAX_SLOTS, SL_REATTACH, SL_DEADLINE, slotAddr,
  S_SEQ, S_WRITER, S_STOPS, S_TIMEOUTS, S_LAST_NS, S_TOTAL_NS, S_MAX_NS, S_HIST, HIST_BUCKETS,
} from "./layout";
import {
  OK, E_ARG, E_TIMEOUT, E_ALREADY, E_NOT_REQUESTER, E_STATE, E_WOULD_BLOCK, E_BUSY,
} from "./errors";
import {
  ST_REGISTERING, ST_DETACHED, ST_ATTACHED, ST_SUSPENDED, STOP_BIT, GEN_MASK,
  stateOf, capacity, checkHandle, handleIndex, genBits, attach, detach,
} from "./state";
import { nowMs, msToNs } from "./clock";
import { seqlockWrite, RESET_WRITER } from "./seqlock";
import { hooksSignal, hooksWake } from "./hooks";

// How long one wait between passes lasts: a thread that detaches in the
// meantime needs a pass to be parked, and it does not bump the epoch.
const SLICE_NS: i64 = 1_000_000;
// Spins on the epoch before sleeping: waking from atomic.wait costs more than
// a suspending thread on another core takes to answer.
const SPINS: i32 = 20_000;
// Slices a restore pass waits for a REGISTERING slot to settle.
const REGISTERING_SLICES: i32 = 50;
// The same bound for the non-blocking release, measured from its first call.
const REGISTERING_WAIT_MS: f64 = 50;
// How long after a start a stop waits for the threads it resumed to re-attach.
const REATTACH_BACKOFF_MS: f64 = 2;

function isRequester(h: i32): bool {
  return atomic.load<u32>(W_EXCLUSION) == <u32>h;
}

// One park pass; returns the number of slots not yet stopped.
function parkPass(h: i32): i32 {
  assert(isRequester(h), "park pass by a thread that does not hold the stop");
  const me = handleIndex(h);
  const cap = capacity();
  let pending = 0;
  for (let i = 0; i < cap; i++) {
    if (i == me) continue;
    const addr = slotAddr(i);
    while (true) {
      const w = atomic.load<u32>(addr);
      const st = stateOf(w);
      if (st == ST_DETACHED) {
        if (atomic.cmpxchg<u32>(addr, w, (w & GEN_MASK) | ST_SUSPENDED) != w) continue;
        atomic.add<u64>(W_FORCED_PARKS, 1);
      } else if (st == ST_ATTACHED) {
        if ((w & STOP_BIT) == 0 && atomic.cmpxchg<u32>(addr, w, w | STOP_BIT) != w) continue;
        pending++;
      } else if (st == ST_REGISTERING) {
        pending++;
      }
      break; // FREE, DEAD, SUSPENDED: nothing to do
    }
  }
  // a thread that polls nothing of the core is asked through its VM's words
  if (pending > 0) hooksSignal();
  return pending;
}

// Undo a stop: every SUSPENDED slot → DETACHED (woken), STOP withdrawn.
// `block`: wait out REGISTERING slots (bounded, see above). Otherwise they are
// counted, unless `giveUp`; the caller then keeps the stop and calls again.
// Returns the REGISTERING slots counted.
function restorePass(h: i32, block: bool = true, giveUp: bool = false): i32 {
  const me = handleIndex(h);
  const cap = capacity();
  let registering = 0;
  for (let i = 0; i < cap; i++) {
    if (i == me) continue;
    const addr = slotAddr(i);
    let waited = 0;
    while (true) {
      const w = atomic.load<u32>(addr);
      const st = stateOf(w);
      if (st == ST_SUSPENDED) {
        if (atomic.cmpxchg<u32>(addr, w, (w & GEN_MASK) | ST_DETACHED) != w) continue;
        atomic.notify(addr, u32.MAX_VALUE);
      } else if (st == ST_ATTACHED && (w & STOP_BIT) != 0) {
        if (atomic.cmpxchg<u32>(addr, w, w & ~STOP_BIT) != w) continue;
      } else if (st == ST_REGISTERING && !block) {
        if (!giveUp) registering++;
      } else if (st == ST_REGISTERING && waited < REGISTERING_SLICES) {
        // usually settles within microseconds; a registrant that does not
        // (killed inside register) is not waited for: one that lives on and
        // settles SUSPENDED resumes itself (state.ts healOrphan)
        atomic.wait<i32>(addr, <i32>w, SLICE_NS);
        waited++;
        continue;
      }
      break;
    }
  }
  return registering;
}

// Before the restore pass resumes anyone: the back-off window opens, and the
// requester's deadline (its stop is over) is cleared.
function markResumed(h: i32): void {
  atomic.store<u64>(W_RESUMED_MS, reinterpret<u64>(nowMs()));
  disarm(h);
}

function releaseWorld(h: i32): void {
  assert(isRequester(h), "world released by a thread that does not hold the stop");
  // W_STOPPED first: a thread that registers once the request is clear runs,
  // and is_stopped() must not read 1 by then.
  atomic.store<u32>(W_STOPPED, 0);
  atomic.store<u32>(W_REQUESTED, 0);
  markResumed(h);
  restorePass(h);
  hooksWake();
  atomic.store<u32>(W_EXCLUSION, 0);
  atomic.notify(W_EXCLUSION, u32.MAX_VALUE);
}

// The non-blocking release (start_try, stop_abandon_try, mark_dead_try): OK,
// or E_WOULD_BLOCK with the stop still held while a slot is REGISTERING
// (request withdrawn, every settled slot resumed). W_REQUESTED is cleared on
// the first call, so a slot that begins registering later reads no request
// and settles DETACHED: only slots counted here can still settle SUSPENDED.
// The first call stamps W_STOP_BEGAN_MS (the requester's word; the stop is
// over) and a call REGISTERING_WAIT_MS after it gives the REGISTERING slots
// up as restorePass does after its slices: one that settles later heals
// itself (state.ts healOrphan). No call reaches atomic.wait.
function releaseWorldTry(h: i32): i32 {
  assert(isRequester(h), "world released by a thread that does not hold the stop");
  const now = nowMs();
  const first = atomic.load<u32>(W_REQUESTED) != 0;
  if (first) {
    store<f64>(W_STOP_BEGAN_MS, now);
    // the order of releaseWorld: W_STOPPED first
    atomic.store<u32>(W_STOPPED, 0);
    atomic.store<u32>(W_REQUESTED, 0);
    markResumed(h);
  }
  const giveUp = now - load<f64>(W_STOP_BEGAN_MS) >= REGISTERING_WAIT_MS;
  const registering = restorePass(h, false, giveUp);
  if (first) hooksWake();
  if (registering != 0) return E_WOULD_BLOCK;
  atomic.store<u32>(W_EXCLUSION, 0);
  atomic.notify(W_EXCLUSION, u32.MAX_VALUE);
  return OK;
}

// ---- stats (seqlock record, written by the requester) ------------------------

function latencyBucket(ns: u64): i32 {
  const b = ns == 0 ? 0 : 63 - <i32>clz<u64>(ns);
  return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

function addStop(ns: u64): void {
  atomic.store<u64>(S_STOPS, atomic.load<u64>(S_STOPS) + 1);
  atomic.store<u64>(S_LAST_NS, ns);
  atomic.store<u64>(S_TOTAL_NS, atomic.load<u64>(S_TOTAL_NS) + ns);
  if (ns > atomic.load<u64>(S_MAX_NS)) atomic.store<u64>(S_MAX_NS, ns);
  const hb = S_HIST + ((<usize>latencyBucket(ns)) << 2);
  atomic.store<u32>(hb, atomic.load<u32>(hb) + 1);
}

function addTimeout(_: u64): void {
  atomic.store<u64>(S_TIMEOUTS, atomic.load<u64>(S_TIMEOUTS) + 1);
}

function clearStats(_: u64): void {
  atomic.store<u64>(S_STOPS, 0);
  atomic.store<u64>(S_TIMEOUTS, 0);
  atomic.store<u64>(S_LAST_NS, 0);
  atomic.store<u64>(S_TOTAL_NS, 0);
  atomic.store<u64>(S_MAX_NS, 0);
  for (let b = 0; b < HIST_BUCKETS; b++) atomic.store<u32>(S_HIST + ((<usize>b) << 2), 0);
}

export function resetStats(): void {
  seqlockWrite(RESET_WRITER, S_WRITER, S_SEQ, clearStats, 0);
  atomic.store<u64>(W_FORCED_PARKS, 0);
  atomic.store<u64>(W_SELF_SUSPENDS, 0);
  atomic.store<u64>(W_ATTACH_WAITS, 0);
}

// ---- the protocol, in steps: the one stop algorithm --------------------------

// The deadline lives in the owner's slot as wrapping u32 ms of now_ms (0: not
// armed); timeouts are below 2^31 ms, so a signed difference orders it.
function deadlineWord(now: f64, timeoutMs: i32): u32 {
  const d = <u32>(<u64>Math.ceil(now + <f64>timeoutMs));
  return d == 0 ? 1 : d;
}

function armedDeadline(h: i32): u32 {
  return atomic.load<u32>(slotAddr(handleIndex(h)) + SL_DEADLINE);
}

function deadlinePassed(d: u32, now: f64): bool {
  return d != 0 && <i32>(d - <u32>(<u64>Math.ceil(now))) <= 0;
}

function disarm(h: i32): void {
  atomic.store<u32>(slotAddr(handleIndex(h)) + SL_DEADLINE, 0);
}

// Arm a stop: the steps that follow keep its deadline.
export function stopArm(h: i32, timeoutMs: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (timeoutMs < 0) return E_ARG;
  arm(h, timeoutMs, nowMs());
  return OK;
}

function arm(h: i32, timeoutMs: i32, now: f64): void {
  atomic.store<u32>(slotAddr(handleIndex(h)) + SL_DEADLINE, deadlineWord(now, timeoutMs));
}

// Whether an armed begin should wait for a resumed thread to re-attach.
function backingOff(h: i32, now: f64): bool {
  const resumed = reinterpret<f64>(atomic.load<u64>(W_RESUMED_MS));
  return now < resumed + REATTACH_BACKOFF_MS && pendingReattach(h) >= 0;
}

// Take the stop if nobody holds it. OK, E_WOULD_BLOCK (another requester, or
// backing off), E_ALREADY (this thread holds it), E_STATE (caller not
// attached, unarmed), E_BUSY (armed: the deadline passed first). Any other
// answer than OK, E_WOULD_BLOCK and E_ALREADY ends the armed attempt.
export function stopTryBegin(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  return tryBegin(h, nowMs());
}

function tryBegin(h: i32, now: f64): i32 {
  const r = beginStep(h, now);
  if (r < 0 && r != E_WOULD_BLOCK && r != E_ALREADY) disarm(h);
  return r;
}

// `now`: one clock reading serves the whole step (a step does not wait).
function beginStep(h: i32, now: f64): i32 {
  const addr = slotAddr(handleIndex(h));
  const d = armedDeadline(h);
  if (d != 0 && stateOf(atomic.load<u32>(addr)) != ST_ATTACHED && !isRequester(h)) {
    // an armed caller waits detached between steps: it comes back first
    const a = attach(h, false);
    if (a == E_WOULD_BLOCK) return deadlinePassed(d, now) ? E_BUSY : E_WOULD_BLOCK;
    if (a < 0) return a;
  }
  if (atomic.load<u32>(addr) & STOP_BIT) return d != 0 ? waitDetached(h, d, now) : E_WOULD_BLOCK;
  if (stateOf(atomic.load<u32>(addr)) != ST_ATTACHED) return E_STATE;
  if (d != 0 && !deadlinePassed(d, now) && !isRequester(h) && backingOff(h, now)) return waitDetached(h, d, now);
  const prev = atomic.cmpxchg<u32>(W_EXCLUSION, 0, <u32>h);
  if (prev == <u32>h) return E_ALREADY;
  if (prev != 0) return d != 0 ? waitDetached(h, d, now) : E_WOULD_BLOCK;
  store<f64>(W_STOP_BEGAN_MS, now);
  atomic.store<u32>(W_REQUESTED, 1);
  return OK;
}

// An armed begin that must wait: at the deadline E_BUSY (attached), else
// detached, so that the stop it waits for can park it.
function waitDetached(h: i32, d: u32, now: f64): i32 {
  if (deadlinePassed(d, now)) return E_BUSY;
  const r = detach(h);
  return r < 0 ? r : E_WOULD_BLOCK;
}

// The word an armed begin waits on after E_WOULD_BLOCK (0: none, retry).
export function stopWaitAddr(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  const me = slotAddr(handleIndex(h));
  if (stateOf(atomic.load<u32>(me)) == ST_SUSPENDED) return <i32>me;
  if (atomic.load<u32>(W_EXCLUSION) != 0) return <i32>W_EXCLUSION;
  const i = backingOff(h, nowMs()) ? pendingReattach(h) : -1;
  return i < 0 ? 0 : <i32>slotAddr(i);
}

// One park pass: the number of threads still running (0: the world is
// stopped), or E_TIMEOUT once an armed deadline passed with threads pending.
export function stopStep(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (!isRequester(h)) return E_NOT_REQUESTER;
  return step(h);
}

function step(h: i32): i32 {
  if (atomic.load<u32>(W_STOPPED)) return 0;
  const pending = parkPass(h);
  if (pending == 0) {
    assert(atomic.load<u32>(W_REQUESTED) == 1, "stopped without a request");
    atomic.store<u32>(W_STOPPED, 1);
    seqlockWrite(<u32>h, S_WRITER, S_SEQ, addStop, msToNs(nowMs() - load<f64>(W_STOP_BEGAN_MS)));
  } else if (deadlinePassed(armedDeadline(h), nowMs())) {
    return E_TIMEOUT;
  }
  return pending;
}

// The deadline passed: record the stragglers, restore the world, release the
// stop. Returns the number of stragglers.
export function stopAbandon(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (!isRequester(h)) return E_NOT_REQUESTER;
  return abandonWorld(h);
}

export function abandonWorld(h: i32): i32 {
  const n = recordStragglers(h);
  releaseWorld(h);
  return n;
}

// The stragglers of a stop that did not complete, and the timeout in the stats.
function recordStragglers(h: i32): i32 {
  assert(isRequester(h), "stop abandoned by a thread that does not hold it");
  const me = handleIndex(h);
  const cap = capacity();
  let n = 0;
  for (let i = 0; i < cap; i++) {
    if (i == me) continue;
    const w = atomic.load<u32>(slotAddr(i));
    const st = stateOf(w);
    if (st == ST_ATTACHED || st == ST_REGISTERING) {
      atomic.store<u32>(STRAGGLERS + ((<usize>n) << 2), (w & GEN_MASK) | <u32>i);
      n++;
    }
  }
  atomic.store<u32>(W_STRAGGLERS, <u32>n);
  seqlockWrite(<u32>h, S_WRITER, S_SEQ, addTimeout, 0);
  return n;
}

// Non-blocking abandon (a page's main thread, or the host for a dead
// requester). The stragglers are recorded only while the request is up, i.e.
// on the first call: a call after E_WOULD_BLOCK only continues the release.
// The straggler count once the stop is released, or E_WOULD_BLOCK (call again,
// or finish with start_try). The stats write can meet only a stats_reset, a
// few stores long, so it does not wait in practice.
// `first`: the caller knows this is its first call (mark_dead_try marking the
// slot DEAD), e.g. for a requester that died between taking the exclusion and
// raising the request.
export function abandonWorldTry(h: i32, first: bool = false): i32 {
  if (first || atomic.load<u32>(W_REQUESTED) != 0) recordStragglers(h);
  const r = releaseWorldTry(h);
  return r < 0 ? r : <i32>atomic.load<u32>(W_STRAGGLERS);
}

export function stopAbandonTry(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (!isRequester(h)) return E_NOT_REQUESTER;
  return abandonWorldTry(h);
}

// A slot resumed by a start whose owner is still on its way back into
// attach (see the fairness note above), or -1.
function pendingReattach(h: i32): i32 {
  const me = handleIndex(h);
  const cap = capacity();
  for (let i = 0; i < cap; i++) {
    if (i == me) continue;
    const addr = slotAddr(i);
    if (stateOf(atomic.load<u32>(addr)) == ST_DETACHED && atomic.load<u32>(addr + SL_REATTACH) != 0) return i;
  }
  return -1;
}

// The blocking stop: the steps above, waiting in atomic.wait between them.
// OK; E_TIMEOUT (world restored; stragglers readable); E_BUSY (another
// requester held the stop past the deadline); E_ALREADY; E_STATE; E_ARG.
// The handle is checked once: each step's export checks it again, which a
// stop that takes microseconds would feel. The arm and the first begin share
// one clock reading (the clock is a host call).
export function stop(h: i32, timeoutMs: i32): i32 {
  if (timeoutMs < 0) return E_ARG;
  const c = checkHandle(h);
  if (c < 0) return c;
  if (isRequester(h)) return E_ALREADY;
  if (stateOf(atomic.load<u32>(slotAddr(handleIndex(h)))) != ST_ATTACHED) return E_STATE;
  let now = nowMs();
  arm(h, timeoutMs, now);
  while (true) {
    const r = tryBegin(h, now);
    if (r == OK) break;
    if (r != E_WOULD_BLOCK) return reattachedWith(h, r);
    const addr = stopWaitAddr(h);
    if (addr > 0) atomic.wait<i32>(<usize>addr, atomic.load<i32>(<usize>addr), SLICE_NS);
    now = nowMs();
  }
  while (true) {
    const epoch = atomic.load<u32>(W_SUSPEND_EPOCH);
    const pending = step(h);
    if (pending == 0) return OK;
    if (pending == E_TIMEOUT) {
      abandonWorld(h);
      return E_TIMEOUT;
    }
    if (pending < 0) return pending;
    let spins = 0;
    while (spins < SPINS && atomic.load<u32>(W_SUSPEND_EPOCH) == epoch) spins++;
    if (spins == SPINS) atomic.wait<i32>(W_SUSPEND_EPOCH, <i32>epoch, SLICE_NS);
  }
}

// `stop` returns with its caller attached, as it was called; a caller parked
// by another stop waits for that stop's end here, after its answer was decided.
function reattachedWith(h: i32, r: i32): i32 {
  disarm(h);
  if (stateOf(atomic.load<u32>(slotAddr(handleIndex(h)))) != ST_ATTACHED) {
    const a = attach(h, true);
    if (a < 0) return a;
  }
  return r;
}

// Requester: resume every thread. The request flag is cleared before anyone
// is woken, so a woken thread never sees a stale request.
export function start(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (!isRequester(h)) return E_NOT_REQUESTER;
  releaseWorld(h);
  return OK;
}

// Non-blocking start: OK once the world runs and the stop is released;
// E_WOULD_BLOCK while a REGISTERING slot settles (every other slot is resumed
// already): wait for a slot word or the suspend epoch to change, call again.
export function startTry(h: i32): i32 {
  const e = checkHandle(h);
  if (e < 0) return e;
  if (!isRequester(h)) return E_NOT_REQUESTER;
  return releaseWorldTry(h);
}

export function isStopped(): i32 {
  return <i32>atomic.load<u32>(W_STOPPED);
}

// Straggler `i` of the last timeout (a handle), or E_ARG.
export function straggler(i: i32): i32 {
  if (i < 0 || i >= <i32>atomic.load<u32>(W_STRAGGLERS) || i >= MAX_SLOTS) return E_ARG;
  return <i32>atomic.load<u32>(STRAGGLERS + ((<usize>i) << 2));
}

export function stragglerCount(): i32 {
  return <i32>atomic.load<u32>(W_STRAGGLERS);
}
