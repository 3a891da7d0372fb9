// The pids the fork fuzz's threads share (a SharedArrayBuffer ring: word 0
// counts the pids written, the rest hold the last SHARE_SLOTS of them), so
// the threads wait for each other's children too.
export const SHARE_SLOTS = 64;
export const shareBuffer = (): SharedArrayBuffer => new SharedArrayBuffer((SHARE_SLOTS + 1) * 4);

export function share(ring: Int32Array, pid: number): void {
  const n = Atomics.add(ring, 0, 1);
  Atomics.store(ring, 1 + (n % SHARE_SLOTS), pid);
}

/** One of the shared pids (0 when none yet). */
export function pickShared(ring: Int32Array, R: { int: (n: number) => number }): number {
  const n = Math.min(Atomics.load(ring, 0), SHARE_SLOTS);
  return n ? Atomics.load(ring, 1 + R.int(n)) : 0;
}
