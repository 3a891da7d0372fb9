// Awaiting a change of a shared i32 without blocking the calling thread: the
// one place that chooses how. Atomics.waitAsync where the engine has it (Node,
// Chromium, Firefox ≥ 145); otherwise relays the platform provides
// (Platform.startWaitRelay: a worker that blocks in Atomics.wait for us);
// with neither, a bounded timer (every caller re-checks its condition).
/**
 * A helper that blocks in Atomics.wait on the caller's behalf, for engines
 * without Atomics.waitAsync: `done` once the i32 at `index` of `buffer` no
 * longer holds `value`, or after `ms`. One wait at a time.
 */
export interface WaitRelay {
  wait(buffer: SharedArrayBuffer, index: number, value: number, ms: number, done: () => void): void;
}


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

/** Which way waits go here: 'native' (Atomics.waitAsync), 'relay' (the platform's relays block for us) or 'poll' (a timer). */
export function waitStrategy(): 'native' | 'relay' | 'poll' {
  return hasWaitAsync && !forceRelay ? 'native' : startRelay ? 'relay' : 'poll';
}

/**
 * Makes every wait go through the platform's relays even where
 * Atomics.waitAsync exists, so the fallback that engines without waitAsync
 * take can be exercised anywhere.
 */
export function forceRelayWaits(on: boolean): void {
  forceRelay = on;
}

function nativeWait(i32: Int32Array, addr: number, value: number, ms: number): Promise<unknown> | undefined {
  const r = Atomics.waitAsync(i32, addr >> 2, value, Math.max(0, ms));
  return r.async ? r.value : undefined;
}

// ---- relay fallback ------------------------------------------------------------------
// Invariant: a relay serves one wait at a time; idle ones are reused, so
// concurrent waits each get their own relay and never queue behind another.

let startRelay: (() => WaitRelay) | undefined;
const idle: WaitRelay[] = [];

/** Where Atomics.waitAsync is missing, waits go through relays `start` makes (a platform adapter installs its own). */
export function useWaitRelays(start: () => WaitRelay): void {
  startRelay = start;
}

function relayWait(i32: Int32Array, addr: number, value: number, ms: number): Promise<unknown> | undefined {
  if (Atomics.load(i32, addr >> 2) !== value) return undefined;
  if (!startRelay) return new Promise(() => {}); // the caller's timer ends it
  const relay = idle.pop() ?? startRelay();
  return new Promise<void>((resolve) => {
    relay.wait(i32.buffer as SharedArrayBuffer, (i32.byteOffset + addr) >> 2, value, Math.max(0, ms), () => {
      idle.push(relay);
      resolve();
    });
  });
}
