// Fork continuation of the stress harness: checks the child's copy and exits
// with a bit set for each violated invariant (0 = all hold):
//   1 the lock-protected counter disagrees with the per-thread counts
//   2 more than the forking thread is registered
//   4 a lock (the harness lock or the import lock) is held
//   8 a seqlock entry is odd, or a cache hit disagrees with its type record
//  16 the world is marked stopped
import type { Runtime } from '../../host/runtime.js';

export interface HarnessForkData {
  globals: number;
  threads: number;
  lock: number;
  type: number;
  cacheSlots: number[];
}

const RECORDS = 0x6000;
const RECORD_SIZE = 1024;
const CACHE = 0x8000;

export default function check({ runtime, data }: { runtime: Runtime; data: HarnessForkData }): number {
  const i32 = new Int32Array(runtime.memory.buffer);
  const g = (k: number) => i32[(data.globals >> 2) + k];
  let code = 0;
  let perThread = 0;
  for (let k = 0; k < data.threads; k++) perThread += g(2 + k);
  if (g(0) !== perThread) code |= 1;
  if (runtime.threadStates().length !== 1) code |= 2;
  if (runtime.core.lock_owner(data.lock) !== 0 || runtime.core.lock_owner(0) !== 0) code |= 4;
  const rec = (RECORDS + data.type * RECORD_SIZE) >> 2;
  if (i32[rec] & 1) code |= 8;
  const tv = i32[rec + 16] >>> 0; // record word 0: data starts 64 bytes in
  const mv = i32[rec + 17] >>> 0;
  const n = i32[rec + 18];
  let value: number | undefined;
  for (let k = 0; k < n; k++) if (i32[rec + 19 + 2 * k] === 0) value = i32[rec + 20 + 2 * k] >>> 0;
  for (const slot of data.cacheSlots) {
    if (i32[(CACHE + slot * 16) >> 2] & 1) code |= 8;
    const hit = runtime.core.cache_read(slot, tv, mv);
    if (hit > 0n && Number(hit & 0xffffffffn) !== value) code |= 8;
  }
  if (runtime.core.is_stopped()) code |= 16;
  return code;
}
