// Helpers for suites that run inside a page: every wait has a deadline
// (../lib/deadline.ts, shared with the Node suites).
import { within } from '../lib/deadline.js';

export { waitFor, within } from '../lib/deadline.js';

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function equal<T>(actual: T, expected: T, message: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`assertion failed: ${message}: got ${a}, expected ${e}`);
}

export async function rejects(p: Promise<unknown> | (() => unknown), check: (e: unknown) => boolean, message: string): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!check(e)) throw new Error(`${message}: wrong error ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return e;
  }
  throw new Error(`${message}: did not throw`);
}

export interface Result { name: string; ok: boolean; error?: string; ms: number }

/** Runs each test in order, each under its own deadline; never throws. */
export async function runAll(tests: [string, () => Promise<void>][], deadlineMs: number): Promise<Result[]> {
  const out: Result[] = [];
  for (const [name, fn] of tests) {
    const t0 = performance.now();
    try {
      await within(deadlineMs, fn, name);
      out.push({ name, ok: true, ms: performance.now() - t0 });
    } catch (e) {
      out.push({ name, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e), ms: performance.now() - t0 });
    }
  }
  return out;
}
