// Awaiting a change of a shared i32 without blocking the calling thread: the
// one place that chooses how. Atomics.waitAsync where the engine has it (Node,
// Chromium, Firefox ≥ 145); otherwise a relay worker that blocks in
// Atomics.wait on our behalf and posts back (host/browser/wait-relay.ts).

/**
 * Resolves when the i32 at byte `addr` no longer holds `value`, or after `ms`
 * at the latest. Callers re-check their condition in a loop.
 *
 * The timeout is our own timer, raced against the wait: under Node 20, once a
 * worker thread has exited, a pending Atomics.waitAsync on the main thread may
 * never settle, not even at its timeout, and a pending waitAsync alone does
 * not keep the event loop alive either.
 */
export async function waitAsync(i32: Int32Array, addr: number, value: number, ms: number): Promise<void> {
  const wait = hasWaitAsync && !forceRelay ? nativeWait(i32, addr, value, ms) : relayWait(i32, addr, value, ms);
  if (!wait) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([wait, new Promise((resolve) => { timer = setTimeout(resolve, Math.max(0, ms)); })]);
  } finally {
    clearTimeout(timer);
  }
}

const hasWaitAsync = typeof (Atomics as { waitAsync?: unknown }).waitAsync === 'function';
let forceRelay = false;

/** Which way waits go here: 'native' (Atomics.waitAsync) or 'relay' (a worker blocks for us). */
export function waitStrategy(): 'native' | 'relay' {
  return hasWaitAsync && !forceRelay ? 'native' : 'relay';
}

/**
 * Makes every wait go through relay workers even where Atomics.waitAsync
 * exists (browsers only: relays are module Workers), so the fallback that
 * engines without waitAsync take can be exercised anywhere.
 */
export function forceRelayWaits(on: boolean): void {
  forceRelay = on;
}

function nativeWait(i32: Int32Array, addr: number, value: number, ms: number): Promise<unknown> | undefined {
  const r = Atomics.waitAsync(i32, addr >> 2, value, Math.max(0, ms));
  return r.async ? r.value : undefined;
}

// ---- relay fallback ------------------------------------------------------------------
// Invariant: a relay worker serves one wait at a time; idle ones are reused, so
// concurrent waits each get their own worker and never queue behind another.

interface Relay { worker: Worker; done?: () => void }
const idle: Relay[] = [];

function relayWait(i32: Int32Array, addr: number, value: number, ms: number): Promise<unknown> | undefined {
  if (Atomics.load(i32, addr >> 2) !== value) return undefined;
  const relay = idle.pop() ?? newRelay();
  return new Promise<void>((resolve) => {
    relay.done = () => {
      relay.done = undefined;
      idle.push(relay);
      resolve();
    };
    relay.worker.postMessage({ buffer: i32.buffer, index: (i32.byteOffset + addr) >> 2, value, ms: Math.max(0, ms) });
  });
}

function newRelay(): Relay {
  const relay: Relay = { worker: new Worker(new URL('./browser/wait-relay.js', import.meta.url), { type: 'module' }) };
  relay.worker.onmessage = () => relay.done?.();
  return relay;
}
