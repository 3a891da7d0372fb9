// createRuntime's options, declared once: each option with its default, its
// validator (which also normalises it) and whether a fork child inherits it.
// RuntimeOptions, ForkConfig, ResolvedOptions and ForkChildOptions are derived
// from these tables, so a new option is one entry here. Validation runs once,
// in Runtime.create, before any memory, worker or fork server exists.
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import { MAX_SLOTS, MEMORY_INITIAL_PAGES, MEMORY_MAXIMUM_PAGES } from './layout.js';
import { DEFAULT_MAXIMUM_PAGES } from './core.js';
import { LINKED_NAMES, type LinkedName } from './modules.js';

/** Pages the core's memory import accepts: its declared minimum and maximum (abi.json "memory"). */
export const MIN_PAGES = MEMORY_INITIAL_PAGES;
export const MAX_PAGES = MEMORY_MAXIMUM_PAGES;
/** The most warm children a fork server keeps (host/fork/server.ts grows its pool with the fork rate up to it). */
export const MAX_FORK_POOL = 8;
/**
 * Deadline of every stop-the-world (a fork's included) unless a call or the
 * runtime says otherwise. One value for both: a fork's stop is a stop, and a
 * longer deadline only lengthens the pause the parked threads see before a
 * refusal (EAGAIN) that the caller retries anyway.
 */
export const DEFAULT_STOP_TIMEOUT_MS = 1000;

/** An option createRuntime refuses; `option` names it (e.g. 'fork.transfer'). */
export class InvalidOptionError extends InvalidArgumentError {
  constructor(readonly option: string, message: string) {
    super(`option ${option}: ${message}`);
  }
}

/** Which core build: a shipped one by name, or a .wasm at a URL. */
export type WasmBuild = 'release' | 'debug' | URL;
/** How a fork child is isolated from its parent: its own process, or a thread group over a fresh memory. */
export type ForkIsolation = 'process' | 'thread';

/** What validating the options asks of a platform (host/platform.ts Platform has it). */
export interface OptionsPlatform {
  loadWasm(build: WasmBuild): Promise<BufferSource>;
  exists?(url: URL): Promise<boolean>;
  createForkService?: unknown;
  startForkServer?: unknown;
}

interface CheckContext { platform?: OptionsPlatform }

/**
 * One option: `In` is what a caller may pass, `Out` what the runtime keeps
 * (normalised), `Child` how a fork child receives it (JSON in the snapshot).
 */
export interface Option<In, Out, Child = never> {
  readonly default: Out | undefined;
  /** Validates a present value, naming `path` in its error; returns it normalised. */
  check(v: unknown, path: string, ctx: CheckContext): Out | Promise<Out>;
  /** Present when a fork child inherits the option: how it travels. */
  readonly child?: { to(v: Out): Child; from(c: Child): Out };
  /** Carries `In` for the derived types; never set. */
  readonly input?: In;
}

// Two builders, so the derived types know which options always have a value.
function withDefault<In, Out = In, Child = never>(
  d: Out, o: Omit<Option<In, Out, Child>, 'input' | 'default'>,
): Option<In, Out, Child> & { readonly default: Out } {
  return { ...o, default: d };
}
function noDefault<In, Out = In, Child = never>(
  o: Omit<Option<In, Out, Child>, 'input' | 'default'>,
): Option<In, Out, Child> & { readonly default: undefined } {
  return { ...o, default: undefined };
}
const asIs = <T>() => ({ to: (v: T): T => v, from: (c: T): T => c });

/** A value as an error message shows it: never throws, whatever the value. */
export const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

const integer = (min: number, max: number) => (v: unknown, path: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidOptionError(path, `must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
};

const oneOf = <T extends string>(...values: T[]) => (v: unknown, path: string): T => {
  if (!values.includes(v as T)) throw new InvalidOptionError(path, `must be ${values.map((x) => `'${x}'`).join(' or ')}, got ${show(v)}`);
  return v as T;
};

/**
 * A deadline: whole ms in [0, 2^31) (the core's deadlines are i32 ms). The one
 * check of every deadline: stopTimeoutMs, a stop's timeoutMs, a fork's
 * stopTimeoutMs and ackTimeoutMs, close's graceMs.
 */
export function deadlineMs(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw new InvalidOptionError(path, `must be an integer in [0, 2^31) ms, got ${show(v)}`);
  }
  return v;
}

/** A lock's wait in ms: a number below 2^31, floored; negative or undefined waits forever (-1). */
export function lockWaitMs(v: unknown, path: string): number {
  if (v === undefined) return -1;
  if (typeof v !== 'number' || Number.isNaN(v) || v > 0x7fffffff) {
    throw new InvalidOptionError(path, `must be a number < 2^31 (negative: forever), got ${show(v)}`);
  }
  return v < 0 ? -1 : Math.floor(v);
}

/** A call's options object: undefined, or an object with only `known` keys (a `signal` an AbortSignal). */
export function checkOptions(opts: unknown, known: readonly string[], what: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object') throw new InvalidArgumentError(`${what} options must be an object, got ${show(opts)}`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new InvalidArgumentError(`${what}: unknown option '${k}' (known: ${known.join(', ')})`);
  }
  const signal = (opts as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`${what}: signal must be an AbortSignal`);
}

/**
 * A module specifier (URL or URL string): the one check of a job or a
 * continuation, at createRuntime and at every spawn. Existence is checked
 * where a platform can (createRuntime only).
 */
export function moduleUrl(v: unknown, path: string): URL {
  if (!(v instanceof URL) && typeof v !== 'string') throw new InvalidOptionError(path, `must be a URL or a URL string, got ${show(v)}`);
  if (!URL.canParse(String(v))) throw new InvalidOptionError(path, `is not a URL: ${show(v)}`);
  return new URL(String(v));
}

async function existingUrl(v: unknown, path: string, { platform }: CheckContext): Promise<URL> {
  const url = moduleUrl(v, path);
  await mustExist(url, path, platform);
  return url;
}

async function mustExist(url: URL, path: string, platform?: OptionsPlatform): Promise<void> {
  if (!platform?.exists) return;
  let ok: boolean;
  try {
    ok = await platform.exists(url);
  } catch {
    ok = false;
  }
  if (!ok) throw new InvalidOptionError(path, `${url.href} does not exist`);
}

/** Structured-cloneable data (job data travels to every worker). */
export function cloneable(v: unknown, path: string): unknown {
  try {
    structuredClone(v);
  } catch (e) {
    throw new InvalidOptionError(path, `must be structured-cloneable: ${e instanceof Error ? e.message : show(e)}`);
  }
  return v;
}

async function wasmBuild(v: unknown, path: string, { platform }: CheckContext): Promise<WasmBuild> {
  if (v === 'release' || v === 'debug') return v;
  if (!(v instanceof URL)) throw new InvalidOptionError(path, `must be 'release', 'debug' or a URL, got ${show(v)}`);
  await mustExist(v, path, platform);
  if (platform) {
    let bytes: BufferSource;
    try {
      bytes = await platform.loadWasm(v);
    } catch (e) {
      throw new InvalidOptionError(path, `${v.href} cannot be loaded: ${e instanceof Error ? e.message : show(e)}`);
    }
    if (!WebAssembly.validate(bytes)) throw new InvalidOptionError(path, `${v.href} is not a valid WebAssembly module`);
  }
  return v;
}

function linkedNames(v: unknown, path: string): LinkedName[] {
  if (!Array.isArray(v) || v.some((n) => !LINKED_NAMES.includes(n)) || new Set(v).size !== v.length) {
    throw new InvalidOptionError(path, `must list distinct names of ${LINKED_NAMES.map((n) => `'${n}'`).join(', ')}, got ${show(v)}`);
  }
  return [...v] as LinkedName[];
}

/** A core build as it travels to a fork child (a string), and back. */
export const wasmOfChild = (w: string): WasmBuild => (w === 'release' || w === 'debug' ? w : new URL(w));

/** fork's sub-options. */
export const FORK_OPTIONS = {
  /** Module whose export `exportName` continues the forking thread in the child (required). */
  continuation: noDefault<string | URL, URL, string>({ check: existingUrl, child: { to: String, from: (c) => new URL(c) } }),
  /** The continuation module's export to call (default: its default export). */
  exportName: noDefault<string, string, string>({
    check: (v, path) => {
      if (typeof v !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(v)) throw new InvalidOptionError(path, `must be an identifier, got ${show(v)}`);
      return v;
    },
    child: asIs(),
  }),
  /**
   * Given to the continuation's `prepare` as `data` while a child warms, before any fork (structured-cloneable): what
   * the continuation can make ready off the fork's path that only the parent knows (the POSIX layer: its program's
   * URL, compiled then).
   */
  prepareData: noDefault<unknown, unknown, unknown>({ check: cloneable, child: asIs() }),
  /**
   * Module the fork server imports to serve its children's `callParent` over the parent's memory (docs/FORK.md,
   * "Calls to the parent"): it exports `serveChild` and optionally `childGone`. A child's own fork server serves
   * the child's children with it, over the child's memory.
   */
  parentService: noDefault<string | URL, URL, string>({ check: existingUrl, child: { to: String, from: (c) => new URL(c) } }),
  /** Warm children kept ready, 0…MAX_FORK_POOL (8; default 1; 0 spawns on demand); the server grows it with the fork rate. The child's server is told the parent's. */
  pool: withDefault<number, number, number>(1, { check: integer(0, MAX_FORK_POOL), child: asIs() }),
  /** How a snapshot reaches the child: a file on tmpfs (default) or IPC. */
  transfer: withDefault<'ipc' | 'file', 'ipc' | 'file', 'ipc' | 'file'>('file', { check: oneOf('ipc', 'file'), child: asIs() }),
  /** How a child is isolated: its own process (default) or a worker group over a fresh memory in this process (docs/FORK.md). A child's own forks inherit it. */
  isolation: withDefault<ForkIsolation, ForkIsolation, ForkIsolation>('process', { check: oneOf('process', 'thread'), child: asIs() }),
  /** Executable for child processes (default: this Node's). */
  execPath: noDefault<string>({
    check: (v, path) => {
      if (typeof v !== 'string' || v === '') throw new InvalidOptionError(path, `must be a path, got ${show(v)}`);
      return v;
    },
  }),
} as const;

/** createRuntime's options. */
export const RUNTIME_OPTIONS = {
  /** Workers to start with `job` (default 0; below `capacity`). */
  threads: withDefault<number>(0, { check: integer(0, MAX_SLOTS - 1) }),
  /** Registry slots, 1…256 (default 64). The main thread takes one. */
  capacity: withDefault<number>(64, { check: integer(1, MAX_SLOTS) }),
  /** Module specifier (URL or file URL string) whose default export each worker runs. */
  job: noDefault<string | URL, URL, string>({ check: existingUrl, child: { to: String, from: (c) => new URL(c) } }),
  /** Passed to every job as `ctx.data` (structured-cloneable). */
  jobData: noDefault<unknown, unknown, unknown>({ check: cloneable, child: asIs() }),
  /** Which core build to load, or a URL to a .wasm (default 'release'). */
  wasm: withDefault<WasmBuild, WasmBuild, string>('release', { check: wasmBuild, child: { to: String, from: wasmOfChild } }),
  /** Default deadline of every stop-the-world and fork, in ms (default 1000). */
  // a child told no deadline (undefined) takes the default
  stopTimeoutMs: withDefault<number, number, number | undefined>(DEFAULT_STOP_TIMEOUT_MS, {
    check: deadlineMs, child: { to: (v) => v, from: (c) => c ?? DEFAULT_STOP_TIMEOUT_MS },
  }),
  /** Shared memory size in 64 KiB pages (defaults 4 and 256). */
  initialPages: withDefault<number>(MIN_PAGES, { check: integer(MIN_PAGES, MAX_PAGES) }),
  maximumPages: withDefault<number>(DEFAULT_MAXIMUM_PAGES, { check: integer(MIN_PAGES, MAX_PAGES) }),
  /**
   * Modules linked against the core that the runtime compiles and gives every thread: 'interp' (the reference VM)
   * and 'diag' (the bench's loops), for the harness, the bench and the tests. Default none: an embedder's runtime
   * compiles the core only. A fork child inherits the list.
   */
  linked: withDefault<LinkedName[], LinkedName[], LinkedName[]>([], { check: linkedNames, child: asIs() }),
  /** Enables fork() (host/fork/); needs a platform that can fork (processes, or its own fork service). */
  fork: noDefault<ForkConfig, ResolvedFork>({ check: (v, path, ctx) => resolveGroup(FORK_OPTIONS, v, path, ctx, FORK_CHECKS) }),
} as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Table = Record<string, Option<any, any, any>>;
type InOf<O> = O extends Option<infer I, infer _R, infer _C> ? I : never;
type OutOf<O> = O extends Option<infer _I, infer R, infer _C> ? R : never;
type ChildOf<O> = O extends Option<infer _I, infer _R, infer C> ? C : never;
type NoDefault<T, K extends keyof T> = T[K] extends { default: undefined } ? K : never;
type HasDefault<T, K extends keyof T> = T[K] extends { default: undefined } ? never : K;
type Inputs<T> = { -readonly [K in keyof T]?: InOf<T[K]> };
// An option with a default is always present once resolved.
type Outputs<T> = { -readonly [K in keyof T as HasDefault<T, K>]: OutOf<T[K]> } & { -readonly [K in keyof T as NoDefault<T, K>]?: OutOf<T[K]> };
type Inherited<T> = { [K in keyof T as [ChildOf<T[K]>] extends [never] ? never : K]: T[K] };
type Children<T, I = Inherited<T>> = { -readonly [K in keyof I as HasDefault<I, K>]: ChildOf<I[K]> } & { -readonly [K in keyof I as NoDefault<I, K>]?: ChildOf<I[K]> };

/** Forked children still running at close: waited for, or killed; reaped either way. */
export type ChildrenAtClose = 'wait' | 'kill';

/** close()'s options. */
export const CLOSE_OPTIONS = {
  /** How long jobs get to finish after `ctx.closing` before they are terminated (default 2000 ms). */
  graceMs: withDefault<number>(2000, { check: deadlineMs }),
  /** Forked children still running: 'wait' for them to exit (default), or 'kill' them. Either way they are reaped. */
  children: withDefault<ChildrenAtClose>('wait', { check: oneOf('wait', 'kill') }),
} as const;
export type CloseOptions = Inputs<typeof CLOSE_OPTIONS>;
export type ResolvedClose = Outputs<typeof CLOSE_OPTIONS>;

/** close()'s options (a number is graceMs), validated before anything closes. */
export function resolveCloseOptions(opts: unknown): Promise<ResolvedClose> {
  return resolveGroup<typeof CLOSE_OPTIONS, ResolvedClose>(CLOSE_OPTIONS, typeof opts === 'number' ? { graceMs: opts } : opts ?? {}, 'close', {}, {});
}

/**
 * What every registered thread applies where a call names nothing: the
 * runtime's resolved options, given once to each thread at registration (the
 * main thread's, each worker's init message).
 */
export type ThreadOptions = Pick<ResolvedOptions, 'stopTimeoutMs'>;
export const threadOptionsOf = (o: ResolvedOptions): ThreadOptions => ({ stopTimeoutMs: o.stopTimeoutMs });
/** A thread made outside a runtime (tests) takes the declared defaults. */
export const DEFAULT_THREAD_OPTIONS: ThreadOptions = { stopTimeoutMs: RUNTIME_OPTIONS.stopTimeoutMs.default };

/** fork() settings, as createRuntime({ fork }) takes them. */
export type ForkConfig = Inputs<typeof FORK_OPTIONS> & { continuation: string | URL };
export type ResolvedFork = Outputs<typeof FORK_OPTIONS> & { continuation: URL };
/** createRuntime's options, as a caller passes them. */
export type RuntimeOptions = Inputs<typeof RUNTIME_OPTIONS>;
/** The options after validation: normalised, every default filled in. */
export type ResolvedOptions = Outputs<typeof RUNTIME_OPTIONS>;
/** What a fork child inherits to rebuild its runtime (JSON inside the snapshot): the entries with a `child` form. */
export type ForkChildOptions = Children<typeof RUNTIME_OPTIONS> & Children<typeof FORK_OPTIONS> & { continuation: string };

interface GroupChecks {
  /** Before the options' own checks: a missing capability or required option is reported as such. */
  first?: (given: Record<string, unknown>, ctx: CheckContext) => void;
  /** After them, on the resolved values: what one option cannot check alone. */
  across?: (resolved: Record<string, unknown>) => void;
}

async function resolveGroup<T extends Table, R>(
  table: T, options: unknown, path: string | undefined, ctx: CheckContext, checks: GroupChecks,
): Promise<R> {
  const where = (k: string) => (path ? `${path}.${k}` : k);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError(path ?? 'options', `must be an object${path ? ' with a continuation' : ''}, got ${show(options)}`);
  }
  const given = options as Record<string, unknown>;
  const known = Object.keys(table);
  for (const k of Object.keys(given)) if (!known.includes(k)) throw new InvalidOptionError(where(k), `unknown option (known: ${known.join(', ')})`);
  checks.first?.(given, ctx);
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(table)) out[k] = given[k] === undefined ? spec.default : await spec.check(given[k], where(k), ctx);
  checks.across?.(out);
  return out as R;
}

const FORK_CHECKS: GroupChecks = {
  first: (f) => {
    if (f.continuation === undefined) throw new InvalidOptionError('fork.continuation', 'is required');
  },
};

const RUNTIME_CHECKS: GroupChecks = {
  first: (o, { platform }) => {
    if (o.fork !== undefined && platform && !canFork(platform)) throw new UnsupportedError('fork needs a platform that can fork (processes, or its own fork service)');
  },
  across: (o) => {
    const { capacity, threads, job, initialPages, maximumPages } = o as ResolvedOptions;
    if (threads >= capacity) throw new InvalidOptionError('threads', `must be below capacity (${capacity}), got ${threads}`);
    if (threads > 0 && job === undefined) throw new InvalidOptionError('job', 'threads > 0 needs a job');
    if (initialPages > maximumPages) throw new InvalidOptionError('initialPages', `must not exceed maximumPages (${maximumPages}), got ${initialPages}`);
  },
};

/** A platform forks through its own fork service or a fork server it starts. */
export const canFork = (p: OptionsPlatform): boolean => !!(p.createForkService || p.startForkServer);

/**
 * Validates and normalises createRuntime's options: InvalidOptionError (code
 * 'E_ARG') for the first option out of its documented range, UnsupportedError
 * for a capability the platform lacks. Starts nothing.
 */
export async function resolveRuntimeOptions(options: unknown = {}, platform?: OptionsPlatform): Promise<ResolvedOptions> {
  return resolveGroup(RUNTIME_OPTIONS, options, undefined, { platform }, RUNTIME_CHECKS);
}

/** resolveRuntimeOptions for callers that only validate. */
export async function validateRuntimeOptions(options: unknown, platform?: OptionsPlatform): Promise<void> {
  await resolveRuntimeOptions(options, platform);
}

function childOf<T extends Table>(table: T, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(table)) if (spec.child && values[k] !== undefined) out[k] = spec.child.to(values[k]);
  return out;
}

function ofChild<T extends Table>(table: T, child: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(table)) {
    out[k] = spec.child && child[k] !== undefined ? spec.child.from(child[k]) : spec.default;
  }
  return out;
}

/** The options a fork child of a runtime with `o` inherits. */
export function forkChildOptions(o: ResolvedOptions & { fork: ResolvedFork }): ForkChildOptions {
  return { ...childOf(RUNTIME_OPTIONS, o), ...childOf(FORK_OPTIONS, o.fork) } as ForkChildOptions;
}

/** A fork child's runtime options, rebuilt from what it inherited (the rest take their defaults). */
export function optionsOfChild(child: ForkChildOptions, maximumPages: number): ResolvedOptions & { fork: ResolvedFork } {
  const c = child as unknown as Record<string, unknown>;
  // no warm pool in a child: a pooled grandchild would cost a process start per fork
  const fork = { ...ofChild(FORK_OPTIONS, c), pool: 0 };
  return { ...ofChild(RUNTIME_OPTIONS, c), maximumPages, fork } as ResolvedOptions & { fork: ResolvedFork };
}
