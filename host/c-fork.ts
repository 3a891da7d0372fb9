// fork() from any depth of C frames, for any C VM built with the fork build
// step (scripts/asyncify-fork.mjs; docs/EMBEDDING.md "fork from a C module").
//
// The VM's fork() calls a host import with a data buffer of its own. The
// import starts an asyncify unwind: every instrumented frame saves its locals
// into the buffer and returns, down to the export this thread was started in
// (call()). There, with no frame of the VM live, the runtime's fork copies the
// memory — buffer, C stack and TLS included — and hands it to a warm child.
// The parent then rewinds the same export: each frame restores itself and the
// import, called again, returns the child's pid. The child (its continuation
// calls resume()) instantiates the VM over the copy, sets the stack pointer and
// TLS base the parent had, and rewinds the same export with the same buffer:
// the import returns 0 there, every C frame above it intact.
//
// The stack pointer has two values to keep: the one after the unwind (where
// the rewind starts: a pass-through frame, such as Lua's setjmp function, runs
// its prologue again from there) and the one at the import (restored when the
// rewind reaches it, since instrumented frames skip their prologues).
import { UnsupportedError } from './errors.js';

/** What wasm-opt's asyncify pass exports, and the linker's globals the fork sets. */
export interface AsyncifyExports {
  asyncify_start_unwind(data: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(data: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
  __stack_pointer: WebAssembly.Global;
  __tls_base: WebAssembly.Global;
}

const UNWINDING = 1;
const REWINDING = 2;

/** asyncify's data header: the next free byte and the end, then the frames. */
const DATA_HEADER = 8;

/** WASI errno values the import returns negated (the VM's libc speaks WASI's numbers). */
export const WASI_ERRNO = { EAGAIN: 6, ECHILD: 12, EINVAL: 28, ENOMEM: 48, ENOSYS: 52, ENOTSUP: 58, ESRCH: 71 } as const;

/**
 * The custom section a fork build with a list (scripts/asyncify-fork.mjs `frames`) carries: the function indices a
 * fork may be under, as JSON `{ "functions": [...] }`.
 */
export const FORK_FRAMES_SECTION = 'wasm-threads.fork-frames';

/**
 * The functions a fork may be under in `module`'s fork build (its list), or undefined when its build step
 * instrumented every function that can be on a fork's stack (no list: nothing to check).
 */
export function forkFramesOf(module: WebAssembly.Module): ReadonlySet<number> | undefined {
  const [section] = WebAssembly.Module.customSections(module, FORK_FRAMES_SECTION);
  if (!section) return undefined;
  return new Set((JSON.parse(new TextDecoder().decode(section)) as { functions: number[] }).functions);
}

// The driver's frame in a stack trace (V8: "at CForkThread.drive (", SpiderMonkey: "drive@"): below it no frame of
// the VM is the fork's. A trace without it was cut short by the engine, and cannot be checked.
const DRIVER_FRAME = /(?:^|[\s.])drive(?: \(|@)/;
const WASM_FRAME = /wasm-function\[(\d+)\]/;

/**
 * The first frame of the VM on the calling stack that `listed` does not hold ("name (wasm-function[i])"), '' when
 * every one is listed, or undefined when the engine's trace does not reach the driver (too deep to see whole).
 * Only at a fork: the engine walks the whole stack.
 */
function unlistedFrame(listed: ReadonlySet<number>): string | undefined {
  const E = Error as { stackTraceLimit?: number };
  const limit = E.stackTraceLimit;
  E.stackTraceLimit = Infinity;
  let stack: string;
  try {
    stack = new Error().stack ?? '';
  } finally {
    E.stackTraceLimit = limit;
  }
  const lines = stack.split('\n');
  const end = lines.findIndex((l) => DRIVER_FRAME.test(l));
  if (end < 0) return undefined;
  for (const line of lines.slice(0, end)) {
    const m = WASM_FRAME.exec(line);
    if (!m || listed.has(Number(m[1]))) continue;
    const name = /at (\S+) \(/.exec(line)?.[1] ?? /^\s*([^@\s]+)@/.exec(line)?.[1] ?? '?';
    return `${name.split('.').pop()} (wasm-function[${m[1]}])`;
  }
  return '';
}

/** Whether a module's instance went through the fork build step. */
export function hasAsyncify(exports: object): exports is AsyncifyExports {
  return typeof (exports as Partial<AsyncifyExports>).asyncify_start_unwind === 'function';
}

/** Where a forking thread was: what its child needs to rewind it (JSON, inside ForkOptions.data). */
export interface CForkFrames {
  /** The export the thread was running and its arguments (rewound in the child). */
  entry: string;
  args: number[];
  /** The VM's data buffer holding the unwound frames. */
  data: number;
  /** __stack_pointer after the unwind: where the rewind starts. */
  unwoundStackPointer: number;
  /** __stack_pointer at the import: restored when the rewind reaches it. */
  stackPointer: number;
  /** __tls_base of the thread (set as it is; never __wasm_init_tls, which would reset the block). */
  tlsBase: number;
}

/**
 * The fork itself, given where the thread is: the child's pid, or a thrown error (its errno, negated, is what
 * the import returns; `errnoOf` maps it).
 */
export type CForkFn = (frames: CForkFrames) => number;

/**
 * One thread of a C VM that may fork from any depth. Create it before the VM's instance (the import is part of
 * the instance's imports), bind the instance with `bind`, and start the thread's work with `call` (in a fork
 * child, `resume`).
 */
export class CForkThread {
  private x?: AsyncifyExports & Record<string, unknown>;
  /** Exports of the VM running on this thread through call()/resume(): a fork unwinds only from depth 1. */
  private depth = 0;
  private pending?: { data: number; stackPointer: number; result?: number };
  /** The last failure's text, for the VM's error import. */
  lastError = '';

  /**
   * @param memory the VM's memory (the data buffer's)
   * @param fork does the fork (rt.fork, a job's ctx.fork, a child's runtime.fork with the VM's own data)
   * @param errnoOf the WASI errno of a failure `fork` threw
   */
  constructor(
    private readonly memory: () => WebAssembly.Memory, private readonly fork: CForkFn, private readonly errnoOf: (e: unknown) => number,
  ) {}

  /** The functions a fork may be under (forkFramesOf), when the build step had a list. */
  private listed?: ReadonlySet<number>;

  /**
   * The VM's instance on this thread. Any instance works; one without asyncify refuses every fork (ENOTSUP).
   * `module`: its module, whose fork build may carry a list (forkFramesOf): a fork under a function outside it is
   * refused (ENOTSUP, nothing unwound) rather than unwound through a frame that cannot save itself.
   */
  bind(exports: object, module?: WebAssembly.Module): void {
    this.x = exports as AsyncifyExports & Record<string, unknown>;
    if (module) this.listed = forkFramesOf(module);
  }

  /** The import the VM's fork() calls: (data, size) → pid in the parent, 0 in the child, or -errno. */
  readonly forkImport = (data: number, size: number): number => {
    const x = this.x;
    if (!x || !hasAsyncify(x)) return this.fail('fork: this build cannot fork with C frames live (no asyncify)', WASI_ERRNO.ENOTSUP);
    if (x.asyncify_get_state() === REWINDING) {
      x.asyncify_stop_rewind();
      const p = this.pending!;
      this.pending = undefined;
      x.__stack_pointer.value = p.stackPointer;
      return p.result!;
    }
    if (this.depth !== 1) {
      return this.fail(this.depth === 0
        ? 'fork: the thread was not started through CForkThread.call, so its frames cannot be unwound to it'
        : 'fork: an export of the VM is running inside another (a host callback): its frames cannot be unwound', WASI_ERRNO.ENOTSUP);
    }
    if (size <= DATA_HEADER || data % 4 !== 0) return this.fail('fork: the data buffer is too small or unaligned', WASI_ERRNO.EINVAL);
    if (this.listed) {
      const under = unlistedFrame(this.listed);
      if (under === undefined) return this.fail('fork: the stack is too deep for the engine to show whole, so its frames cannot be checked against this fork build\'s list', WASI_ERRNO.ENOTSUP);
      if (under) return this.fail(`fork: under ${under}, a function this fork build's list does not hold: its frame cannot be unwound`, WASI_ERRNO.ENOTSUP);
    }
    const header = new Int32Array(this.memory().buffer, data, 2);
    header[0] = data + DATA_HEADER;
    header[1] = data + size;
    this.pending = { data, stackPointer: x.__stack_pointer.value as number };
    x.asyncify_start_unwind(data);
    return 0; // not seen: the caller unwinds
  };

  /** Runs export `name(...args)` on this thread; a fork inside it unwinds to here, forks, and rewinds. */
  call(name: string, ...args: number[]): unknown {
    return this.drive({ name, args });
  }

  /**
   * In a fork child, over the copy: rewinds the forking thread (`frames`); its fork() returns 0. Then as call().
   * Until then the instance's stack pointer should be `frames.stackPointer`, below every unwound frame, so that
   * calls into it before the rewind (the VM's adopt step) leave those frames alone.
   */
  resume(frames: CForkFrames): unknown {
    const x = this.exports();
    x.__stack_pointer.value = frames.unwoundStackPointer;
    x.__tls_base.value = frames.tlsBase;
    this.pending = { data: frames.data, stackPointer: frames.stackPointer, result: 0 };
    x.asyncify_start_rewind(frames.data);
    return this.drive({ name: frames.entry, args: frames.args });
  }

  private exports(): AsyncifyExports & Record<string, unknown> {
    if (!this.x || !hasAsyncify(this.x)) throw new UnsupportedError('CForkThread: the instance was not built with the fork build step (scripts/asyncify-fork.mjs)');
    return this.x;
  }

  private fail(message: string, errno: number): number {
    this.lastError = message;
    return -errno;
  }

  private drive(entry: { name: string; args: number[] }): unknown {
    const x = this.x as (Record<string, unknown> & Partial<AsyncifyExports>) | undefined;
    if (!x) throw new UnsupportedError('CForkThread: no instance bound (bind it before call)');
    const fn = x[entry.name];
    if (typeof fn !== 'function') throw new UnsupportedError(`CForkThread: the instance exports no function ${entry.name}`);
    this.depth++;
    try {
      for (;;) {
        let r: unknown;
        try {
          r = fn(...entry.args);
        } catch (e) {
          if (this.pending && x.asyncify_get_state?.() === UNWINDING) {
            throw new RangeError(`fork: the frames to unwind outgrew the VM's data buffer (${e instanceof Error ? e.message : String(e)}); the thread cannot continue`);
          }
          throw e;
        }
        const p = this.pending;
        if (!p || x.asyncify_get_state!() !== UNWINDING) return r;
        x.asyncify_stop_unwind!();
        const frames: CForkFrames = {
          entry: entry.name, args: entry.args, data: p.data,
          unwoundStackPointer: x.__stack_pointer!.value as number, stackPointer: p.stackPointer, tlsBase: x.__tls_base!.value as number,
        };
        // While it forks, the host may call into the instance (a VM's interrupt for the stop): its frames go below
        // every unwound frame, whose stack memory a pass-through's epilogue handed back.
        x.__stack_pointer!.value = p.stackPointer;
        try {
          p.result = this.fork(frames);
        } catch (e) {
          this.lastError = e instanceof Error ? e.message : String(e);
          p.result = -this.errnoOf(e);
        }
        x.__stack_pointer!.value = frames.unwoundStackPointer;
        x.asyncify_start_rewind!(p.data);
        // the world is running again and the parent rewinds: the same export, the same arguments
      }
    } finally {
      this.depth--;
    }
  }
}
