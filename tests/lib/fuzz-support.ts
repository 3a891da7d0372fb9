// The fuzz tests' seeded generator, and what the host-API fuzz accepts as the
// outcome of a call, shared by the test (tests/host-fuzz.test.ts) and its
// worker job (tests/jobs/host-fuzz-worker.ts):
// a return, or a WasmThreadsError of a documented class for its code — the
// code's own class (abi.json "errors") or the class an operation's domain
// gives it ("error_domains"). Anything else (a TypeError, a DOMException, a
// RangeError from a typed array) is a finding.
import { WasmThreadsError, ERROR_TABLE, DOMAIN_CLASSES } from '../../host/errors.js';

const CLASSES = new Map<string, Set<string>>(ERROR_TABLE.map((e) => [e.code, new Set([e.className])]));
for (const domain of Object.values(DOMAIN_CLASSES)) {
  for (const [code, cls] of Object.entries(domain)) CLASSES.get(code)?.add(cls as string);
}

/** undefined when `e` is a documented typed error, else what is wrong with it. */
export function undocumented(e: unknown): string | undefined {
  if (!(e instanceof WasmThreadsError)) {
    return `threw ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}, not a WasmThreadsError`;
  }
  const classes = CLASSES.get(e.code);
  if (!classes) return `threw ${e.constructor.name} with code ${String(e.code)}, which abi.json does not list`;
  // A subclass of a documented class is that class (InvalidOptionError is an InvalidArgumentError).
  let documented = false;
  for (let p = Object.getPrototypeOf(e); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if (classes.has((p as { constructor: { name: string } }).constructor.name)) documented = true;
  }
  if (!documented) {
    return `threw ${e.constructor.name} ${e.code} (${e.message}); the documented classes for ${e.code}: ${[...classes].join(', ')}`;
  }
  return undefined;
}

/** Resolves with the promise's outcome, or rejects when it has not settled in `ms`: a hang. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** A small seeded generator (mulberry32), so a failing run replays from its seed. */
export function rng(seed: number): { next: () => number; int: (n: number) => number; pick: <T>(xs: readonly T[]) => T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T,>(xs: readonly T[]): T => xs[int(xs.length)] };
}

/** Argument values a caller should never pass: each must be refused with a typed error. */
export const HOSTILE: readonly unknown[] = [
  -1, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, -(2 ** 31), '1', '', null, {}, [], true, Symbol.for('x'),
  () => 1, 10n,
];

/**
 * Options a caller should never pass to a blocking call. None of them means
 * "wait forever" ({} and a negative lock timeout do, validly): the fuzz keeps
 * every wait bounded.
 */
export const HOSTILE_OPTIONS: readonly unknown[] = [
  -1, NaN, '1', null, true, () => 1, 10n, { timeoutMs: NaN }, { timeoutMs: '5' }, { timeoutMs: 2 ** 31 },
  { timeoutMs: Infinity }, { bogus: 1 }, { timeoutMs: 1, signal: 'x' }, { timeoutMs: 1, signal: {} },
];
