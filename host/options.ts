// Up-front validation of createRuntime's options: every option is checked,
// with a typed error naming it, before any memory, worker or fork server
// exists. Runtime.create calls this first.
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import { MAX_SLOTS } from './layout.js';
import type { Platform } from './platform.js';
import type { RuntimeOptions } from './runtime.js';

/** Pages the core's memory import accepts: its declared minimum and maximum (asconfig.json). */
export const MIN_PAGES = 4;
export const MAX_PAGES = 4096;
export const MAX_FORK_POOL = 16;

const KNOWN = ['threads', 'capacity', 'job', 'jobData', 'wasm', 'stopTimeoutMs', 'initialPages', 'maximumPages', 'fork'] as const;
const FORK_KNOWN = ['continuation', 'exportName', 'pool', 'transfer', 'execPath', 'isolation'] as const;

/** An option createRuntime refuses; `option` names it (e.g. 'fork.transfer'). */
export class InvalidOptionError extends InvalidArgumentError {
  constructor(readonly option: string, message: string) {
    super(`option ${option}: ${message}`);
  }
}

const show = (v: unknown): string => {
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

function integer(o: Record<string, unknown>, name: string, min: number, max: number, path = name): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidOptionError(path, `must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v;
}

// A module specifier (URL or URL string) the platform can load; a file: URL
// must name an existing file.
async function moduleUrl(v: unknown, path: string, platform?: Platform): Promise<URL> {
  if (!(v instanceof URL) && typeof v !== 'string') throw new InvalidOptionError(path, `must be a URL or a URL string, got ${show(v)}`);
  let url: URL;
  try {
    url = new URL(String(v));
  } catch {
    throw new InvalidOptionError(path, `is not a URL: ${show(v)}`);
  }
  await mustExist(url, path, platform);
  return url;
}

async function mustExist(url: URL, path: string, platform?: Platform): Promise<void> {
  if (!platform?.exists) return;
  let ok: boolean;
  try {
    ok = await platform.exists(url);
  } catch {
    ok = false;
  }
  if (!ok) throw new InvalidOptionError(path, `${url.href} does not exist`);
}

/**
 * Throws InvalidOptionError (code 'E_ARG') for the first option out of its
 * documented range; resolves when every option is acceptable. Starts nothing.
 */
export async function validateRuntimeOptions(options: unknown, platform?: Platform): Promise<void> {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('options', `must be an object, got ${show(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(KNOWN as readonly string[]).includes(k)) throw new InvalidOptionError(k, `unknown option (known: ${KNOWN.join(', ')})`);
  }
  const capacity = integer(o, 'capacity', 1, MAX_SLOTS) ?? 64;
  const threads = integer(o, 'threads', 0, MAX_SLOTS - 1) ?? 0;
  if (threads >= capacity) throw new InvalidOptionError('threads', `must be below capacity (${capacity}), got ${threads}`);
  if (threads > 0 && o.job === undefined) throw new InvalidOptionError('job', 'threads > 0 needs a job');
  if (o.job !== undefined) await moduleUrl(o.job as RuntimeOptions['job'], 'job', platform);
  if (o.jobData !== undefined) {
    try {
      structuredClone(o.jobData);
    } catch (e) {
      throw new InvalidOptionError('jobData', `must be structured-cloneable: ${e instanceof Error ? e.message : show(e)}`);
    }
  }
  const w = o.wasm;
  if (w !== undefined && w !== 'release' && w !== 'debug') {
    if (!(w instanceof URL)) throw new InvalidOptionError('wasm', `must be 'release', 'debug' or a URL, got ${show(w)}`);
    await mustExist(w, 'wasm', platform);
    if (platform) {
      let bytes: BufferSource;
      try {
        bytes = await platform.loadWasm(w);
      } catch (e) {
        throw new InvalidOptionError('wasm', `${w.href} cannot be loaded: ${e instanceof Error ? e.message : show(e)}`);
      }
      if (!WebAssembly.validate(bytes)) throw new InvalidOptionError('wasm', `${w.href} is not a valid WebAssembly module`);
    }
  }
  const t = o.stopTimeoutMs;
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > 0x7fffffff)) {
    throw new InvalidOptionError('stopTimeoutMs', `must be a finite number in [0, 2^31), got ${show(t)}`);
  }
  const maximum = integer(o, 'maximumPages', MIN_PAGES, MAX_PAGES) ?? 256;
  const initial = integer(o, 'initialPages', MIN_PAGES, MAX_PAGES) ?? Math.min(4, maximum);
  if (initial > maximum) throw new InvalidOptionError('initialPages', `must not exceed maximumPages (${maximum}), got ${initial}`);
  // A missing capability is reported as such before the fork options' details.
  if (o.fork !== undefined && platform && !platform.startForkServer && !platform.createForkService) {
    throw new UnsupportedError('fork needs a platform with processes');
  }
  if (o.fork !== undefined) await validateFork(o.fork, platform);
}

async function validateFork(fork: unknown, platform?: Platform): Promise<void> {
  if (fork === null || typeof fork !== 'object' || Array.isArray(fork)) {
    throw new InvalidOptionError('fork', `must be an object with a continuation, got ${show(fork)}`);
  }
  const f = fork as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (!(FORK_KNOWN as readonly string[]).includes(k)) {
      throw new InvalidOptionError(`fork.${k}`, `unknown option (known: ${FORK_KNOWN.join(', ')})`);
    }
  }
  if (platform && !platform.startForkServer) throw new InvalidOptionError('fork', 'this platform has no processes');
  if (f.continuation === undefined) throw new InvalidOptionError('fork.continuation', 'is required');
  await moduleUrl(f.continuation, 'fork.continuation', platform);
  if (f.exportName !== undefined && (typeof f.exportName !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(f.exportName))) {
    throw new InvalidOptionError('fork.exportName', `must be an identifier, got ${show(f.exportName)}`);
  }
  integer(f, 'pool', 0, MAX_FORK_POOL, 'fork.pool');
  if (f.transfer !== undefined && f.transfer !== 'ipc' && f.transfer !== 'file') {
    throw new InvalidOptionError('fork.transfer', `must be 'ipc' or 'file', got ${show(f.transfer)}`);
  }
  if (f.isolation !== undefined && f.isolation !== 'process' && f.isolation !== 'thread') {
    throw new InvalidOptionError('fork.isolation', `must be 'process' or 'thread', got ${show(f.isolation)}`);
  }
  if (f.execPath !== undefined) {
    if (typeof f.execPath !== 'string' || f.execPath === '') throw new InvalidOptionError('fork.execPath', `must be a path, got ${show(f.execPath)}`);
  }
}
