// Fork continuation of the stress harness: checks the child's copy and exits
// with a bit set for each violated invariant (0 = all hold):
//   1 the lock-protected counter disagrees with the per-thread counts
//   2 more than the forking thread is registered
//   4 a lock (the harness lock or the import lock) is held
//   8 a seqlock entry is odd, or a cache hit disagrees with its type record
//  16 the world is marked stopped
import type { Runtime } from '../../host/runtime.js';
import { CACHE, CACHE_ENTRY_SIZE, RECORDS, RECORD_DATA, RECORD_SIZE } from '../../host/layout.js';

export interface HarnessForkData {
  globals: number;
  threads: number;
  lock: number;
  type: number;
  cacheSlots: number[];
}

export default function check({ runtime, data }: { runtime: Runtime; data: HarnessForkData }): number {
  const i32 = new Int32Array(runtime.memory.buffer);
  const g = (k: number) => i32[(data.globals >> 2) + k];
  let code = 0;
  let perThread = 0;
  for (let k = 0; k < data.threads; k++) perThread += g(2 + k);
  if (g(0) !== perThread) code |= 1;
  if (runtime.threadStates().length !== 1) code |= 2;
  if (runtime.core.lock_owner(data.lock) !== 0 || runtime.core.lock_owner(0) !== 0) code |= 4;
  // the type record (assembly/seqlock.ts): tag, metaclass tag, count, (key, value) pairs
  const seq = (RECORDS + data.type * RECORD_SIZE) >> 2;
  const word = (k: number) => i32[seq + RECORD_DATA / 4 + k];
  if (i32[seq] & 1) code |= 8;
  const tv = word(0) >>> 0;
  const mv = word(1) >>> 0;
  let value: number | undefined;
  for (let k = 0; k < word(2); k++) if (word(3 + 2 * k) === 0) value = word(4 + 2 * k) >>> 0;
  for (const slot of data.cacheSlots) {
    if (i32[(CACHE + slot * CACHE_ENTRY_SIZE) >> 2] & 1) code |= 8;
    const hit = runtime.core.cache_read(slot, tv, mv);
    if (hit > 0n && Number(hit & 0xffffffffn) !== value) code |= 8;
  }
  if (runtime.core.is_stopped()) code |= 16;
  return code;
}

// Nothing of a child outlives it: its carrier may serve the next (docs/FORK.md, "Recycled children").
export function recycle(): void {}
