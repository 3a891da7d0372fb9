// Awaiting a change of a shared i32 without blocking the calling thread.

/** Resolves when the i32 at byte `addr` no longer holds `value` (or after `ms`). */
export async function waitAsync(i32: Int32Array, addr: number, value: number, ms: number): Promise<void> {
  const r = Atomics.waitAsync(i32, addr >> 2, value, Math.max(0, ms));
  if (!r.async) return;
  // A pending waitAsync does not keep Node's event loop alive; a timer does.
  const keepAlive = setTimeout(() => {}, Math.max(0, ms) + 1);
  try {
    await r.value;
  } finally {
    clearTimeout(keepAlive);
  }
}
