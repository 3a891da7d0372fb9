// Reading the core's STW statistics and the registry without stopping anyone.
import { ERRNO, errorFor } from './errors.js';
import type { CoreExports } from './core.js';
import {
  HIST_BUCKETS, S_SEQ, S_STOPS, S_TIMEOUTS, S_LAST_NS, S_TOTAL_NS, S_MAX_NS, S_HIST, W_FORCED_PARKS, W_SELF_SUSPENDS,
  W_ATTACH_WAITS, STATE_MASK, STATE_NAMES, STOP_BIT, SL_TID, ST_FREE, LAYOUT_END, handleOf, slotAddr, type ThreadStateName,
} from './layout.js';

const STATS_READ_TRIES = 1 << 20;

export interface StwStats {
  stops: number;
  timeouts: number;
  lastNs: number;
  totalNs: number;
  maxNs: number;
  meanNs: number;
  /** hist[b] counts stops whose latency was in [2^b, 2^(b+1)) ns. */
  hist: number[];
  forcedParks: number;
  selfSuspends: number;
  attachWaits: number;
}

export interface ThreadInfo {
  index: number;
  handle: number;
  threadId: number;
  state: ThreadStateName;
  stopRequested: boolean;
}

/** STW statistics, read through the stats seqlock. */
export function readStats(memory: WebAssembly.Memory): StwStats {
  const i32 = new Int32Array(memory.buffer, 0, LAYOUT_END >> 2);
  const i64 = new BigInt64Array(memory.buffer, 0, LAYOUT_END >> 3);
  // bounded like the module's readers: a writer killed mid-write leaves the sequence odd
  for (let tries = 0; ; tries++) {
    if (tries === STATS_READ_TRIES) throw errorFor(ERRNO.E_BUSY, 'stats: the stats record stayed mid-write', 'stats');
    const s1 = Atomics.load(i32, S_SEQ >> 2);
    if (s1 & 1) continue;
    const n = (addr: number) => Number(Atomics.load(i64, addr >> 3));
    const stops = n(S_STOPS);
    const totalNs = n(S_TOTAL_NS);
    const snap = {
      stops,
      timeouts: n(S_TIMEOUTS),
      lastNs: n(S_LAST_NS),
      totalNs,
      maxNs: n(S_MAX_NS),
      meanNs: stops ? totalNs / stops : 0,
      hist: Array.from({ length: HIST_BUCKETS }, (_, b) => Atomics.load(i32, (S_HIST >> 2) + b) >>> 0),
    };
    if (Atomics.load(i32, S_SEQ >> 2) !== s1) continue;
    return { ...snap, forcedParks: n(W_FORCED_PARKS), selfSuspends: n(W_SELF_SUSPENDS), attachWaits: n(W_ATTACH_WAITS) };
  }
}

/** Every registered slot, for thread dumps. */
export function readThreadStates(core: CoreExports, memory: WebAssembly.Memory): ThreadInfo[] {
  const i32 = new Int32Array(memory.buffer, 0, LAYOUT_END >> 2);
  const out: ThreadInfo[] = [];
  const cap = core.capacity();
  for (let i = 0; i < cap; i++) {
    const word = Atomics.load(i32, slotAddr(i) >> 2) >>> 0;
    if ((word & STATE_MASK) === ST_FREE) continue;
    out.push({
      index: i,
      handle: handleOf(word, i),
      threadId: Atomics.load(i32, (slotAddr(i) + SL_TID) >> 2),
      state: STATE_NAMES[word & STATE_MASK] ?? 'FREE',
      stopRequested: (word & STOP_BIT) !== 0,
    });
  }
  return out;
}
