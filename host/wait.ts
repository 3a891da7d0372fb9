// Awaiting a change of a shared i32 without blocking the calling thread.

/**
 * Resolves when the i32 at byte `addr` no longer holds `value`, or after `ms`
 * at the latest. Callers re-check their condition in a loop.
 *
 * The timeout is our own timer, raced against the waitAsync promise: under
 * Node 20, once a worker thread has exited, a pending Atomics.waitAsync on the
 * main thread may never settle, not even at its timeout, and a pending
 * waitAsync alone does not keep the event loop alive either.
 */
export async function waitAsync(i32: Int32Array, addr: number, value: number, ms: number): Promise<void> {
  const r = Atomics.waitAsync(i32, addr >> 2, value, Math.max(0, ms));
  if (!r.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([r.value, new Promise((resolve) => { timer = setTimeout(resolve, Math.max(0, ms)); })]);
  } finally {
    clearTimeout(timer);
  }
}
