// Waits with a deadline, for the suites under Node and the ones in a page
// alike (no Node built-ins): a hang fails the test instead of stalling the suite.

/** What `within` throws when its deadline passes. */
export class DeadlineError extends Error {}

/** Runs `fn` and fails (DeadlineError) if it has not settled within `ms`; `what` names it in the error. */
export async function within<T>(ms: number, fn: () => Promise<T> | T, what = 'test'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new DeadlineError(`${what}: deadline of ${ms} ms passed`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (yielding to the event loop) until `cond()` holds; throws at the deadline. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
