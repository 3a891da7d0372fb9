// Running reference-interpreter programs on a registered thread. The VM
// (interp.wasm, built from assembly/interp/) keeps every frame in shared
// memory; this side loads code, makes frames and performs the host operations
// the VM hands back. No Node built-ins: a browser page runs it too.
import { ERRNO, ERROR_RANGES, InterpreterError, codeName, messageOf } from '../host/errors.js';
import type { RegisteredThread } from '../host/thread.js';
import { interpOf, type InterpExports } from '../host/modules.js';
import { HOST_OPS, type Program } from './assembler.js';

/** Context fields (bytes from the context's start); interp.wasm's C_* globals are the source (tests check). */
export const CTX = { pc: 0, sp: 4, fp: 8, code: 12, codeLen: 16, stack: 20, stackCap: 24, status: 28, hostOp: 32, errorPc: 36, globals: 40, globalsLen: 44, hits: 48, misses: 52, steps: 56, size: 64 } as const;
/** Run results; interp.wasm's R_* globals must equal them (tests check). < 0: errors, the VM's range of abi/abi.json. */
export const RESULTS = {
  HALTED: 0, HOST: 1, BUDGET: 2,
  BAD_OPCODE: ERRNO.E_VM_BAD_OPCODE, UNDERFLOW: ERRNO.E_VM_UNDERFLOW, OVERFLOW: ERRNO.E_VM_OVERFLOW,
  BAD_JUMP: ERRNO.E_VM_BAD_JUMP, BAD_LOCAL: ERRNO.E_VM_BAD_LOCAL, BAD_GLOBAL: ERRNO.E_VM_BAD_GLOBAL,
  BAD_ATTR: ERRNO.E_VM_BAD_ATTR, BAD_CONTEXT: ERRNO.E_VM_BAD_CONTEXT, NO_ATTR: ERRNO.E_VM_NO_ATTR,
} as const;
const R = RESULTS;
const isVmStatus = (r: number): boolean => r <= ERROR_RANGES.vm.from && r >= ERROR_RANGES.vm.to;
/** The VM's error messages by number (from the generated error table). */
export const VM_ERRORS: Record<number, string> = Object.fromEntries(
  Object.values(RESULTS).filter(isVmStatus).map((n) => [n, messageOf(n)]),
);

/** A program error, with the source line of the failing instruction (host/errors.ts, abi.json's class table). */
export { InterpreterError };

/** Code and globals in shared memory: any thread can make frames for it. */
export interface LoadedProgram {
  code: number;
  codeLen: number;
  globals: number;
  globalsLen: number;
  labels: Record<string, number>;
  lines: number[];
}

/** What a spawned interpreter thread needs; travels as job data (structured clone) or fork data (JSON). */
export interface ProgramRef {
  code: number;
  codeLen: number;
  globals: number;
  globalsLen: number;
}

/** The shareable part of a loaded program (no source lines or labels). */
export function programRef(p: ProgramRef): ProgramRef {
  return { code: p.code, codeLen: p.codeLen, globals: p.globals, globalsLen: p.globalsLen };
}

/** The job that runs a spawned interpreter thread (scripts/jobs/interp.ts). */
export const INTERP_JOB = new URL('../scripts/jobs/interp.js', import.meta.url);

// Thread records: a spawned interpreter thread's state word and result. Only
// the thread itself writes it, once: result and counts first, then the state
// 0 → 1 (done) or 2 (failed) with a notify; joiners wait on the state word.
export const TR_STATE = 0; // 0 running, 1 done, 2 failed
export const TR_RESULT = 4;
export const TR_HITS = 8; // the thread's inline-cache hits and misses
export const TR_MISSES = 12;
const TR_SIZE = 16;

export interface InterpreterOptions {
  /** Starts a worker running `job` (the main thread: runtime.spawn; a worker: ctx.spawn). */
  spawn?: (job: URL, data: unknown) => void;
}

export interface RunResult {
  status: 'halted' | 'budget' | 'exited';
  output: number[];
  exitCode?: number;
}

/**
 * Bump-allocates `bytes` (64-byte aligned) of shared memory in the VM's heap
 * (from interp_heap_base() up; the top is a word in the VM's own block); any
 * thread may call it.
 */
export function allocate(thread: RegisteredThread, bytes: number): number {
  const vm = interpOf(thread.core);
  const i32 = new Int32Array(thread.memory.buffer);
  const at = vm.interp_heap_top_addr() >> 2;
  const size = (bytes + 63) & ~63;
  for (;;) {
    const top = Atomics.load(i32, at);
    if (top === 0) {
      Atomics.compareExchange(i32, at, 0, vm.interp_heap_base());
      continue;
    }
    if (Atomics.compareExchange(i32, at, top, top + size) !== top) continue;
    const need = top + size - thread.memory.buffer.byteLength;
    if (need > 0) thread.memory.grow(Math.ceil(need / 65536));
    return top;
  }
}

export class Interpreter {
  readonly output: number[] = [];

  readonly #vm: InterpExports;

  /** Instantiates interp.wasm on this thread (once per thread) through the runtime's platform. */
  constructor(readonly thread: RegisteredThread, private readonly options: InterpreterOptions = {}) {
    this.#vm = interpOf(thread.core);
  }

  #i32(): Int32Array {
    return new Int32Array(this.thread.memory.buffer);
  }

  /** Allocates a thread record (state, result, cache hits, misses) for a thread started by the host. */
  newThreadRecord(): number {
    return allocate(this.thread, TR_SIZE);
  }

  /** Marks a spawned thread's record done (or failed) with `result` and its frame's cache counts, waking joiners. */
  finishThread(record: number, result: number, failed = false, frame?: number): void {
    const i32 = this.#i32();
    i32[(record + TR_RESULT) >> 2] = result;
    if (frame !== undefined) {
      i32[(record + TR_HITS) >> 2] = this.field(frame, 'hits');
      i32[(record + TR_MISSES) >> 2] = this.field(frame, 'misses');
    }
    Atomics.store(i32, (record + TR_STATE) >> 2, failed ? 2 : 1);
    Atomics.notify(i32, (record + TR_STATE) >> 2);
  }

  /** The value on top of the frame's stack, or 0 when it is empty. */
  top(ctx: number): number {
    const i32 = this.#i32();
    const sp = i32[(ctx + CTX.sp) >> 2];
    return sp > 0 ? i32[(i32[(ctx + CTX.stack) >> 2] >> 2) + sp - 1] : 0;
  }

  // host spawn: [entry, arg] → [thread record]
  #spawn(ctx: number, p: LoadedProgram): void {
    if (!this.options.spawn) throw new InterpreterError(ERRNO.E_VM_BAD_OPCODE, this.field(ctx, 'pc') - 1, undefined, 'host spawn: this runner cannot start threads');
    const arg = this.pop(ctx);
    const entry = this.pop(ctx);
    if (entry < 0 || entry >= p.codeLen) throw new InterpreterError(ERRNO.E_VM_BAD_JUMP, this.field(ctx, 'pc') - 1, p.lines[this.field(ctx, 'pc') - 1], `host spawn: no instruction ${entry}`);
    const record = this.newThreadRecord();
    this.options.spawn(INTERP_JOB, { program: { ...programRef(p), labels: {}, lines: p.lines }, entry, args: [arg], record });
    this.push(ctx, record);
  }

  // host join: [thread record] → [its result]; waits detached
  #join(ctx: number): void {
    const record = this.pop(ctx);
    const i32 = this.#i32();
    if (record < this.#vm.interp_heap_base() || record + TR_SIZE > i32.byteLength) {
      throw new InterpreterError(R.BAD_ATTR, this.field(ctx, 'pc') - 1, undefined, `host join: ${record} is not a thread`);
    }
    const at = (record + TR_STATE) >> 2;
    this.thread.allowThreadsIfAttached(() => {
      while (Atomics.load(i32, at) === 0) Atomics.wait(i32, at, 0, 1000);
    });
    this.push(ctx, i32[(record + TR_RESULT) >> 2]);
  }

  /** Copies a program's code into shared memory and allocates its globals. */
  load(program: Program): LoadedProgram {
    const code = allocate(this.thread, program.code.byteLength);
    this.#i32().set(program.code, code >> 2);
    const globals = program.globals ? allocate(this.thread, program.globals * 4) : 0;
    return {
      code, codeLen: program.code.length / 2, globals, globalsLen: program.globals,
      labels: Object.fromEntries(program.labels), lines: program.lines,
    };
  }

  /** A frame (interpreter context + operand stack) starting at `entry` with `args` pushed. */
  frame(p: LoadedProgram, entry: string | number = 0, args: number[] = [], stackWords = 1024): number {
    const pc = typeof entry === 'number' ? entry : p.labels[entry];
    if (pc === undefined || pc < 0 || pc >= p.codeLen) throw new InterpreterError(ERRNO.E_VM_BAD_JUMP, -1, undefined, `no entry ${entry}`);
    if (args.length > stackWords) throw new InterpreterError(ERRNO.E_VM_OVERFLOW, pc, undefined, 'too many arguments');
    const ctx = allocate(this.thread, CTX.size + stackWords * 4);
    const i32 = this.#i32();
    const w = (f: number, v: number) => { i32[(ctx + f) >> 2] = v; };
    w(CTX.pc, pc); w(CTX.sp, args.length); w(CTX.fp, 0);
    w(CTX.code, p.code); w(CTX.codeLen, p.codeLen);
    w(CTX.stack, ctx + CTX.size); w(CTX.stackCap, stackWords);
    w(CTX.globals, p.globals); w(CTX.globalsLen, p.globalsLen);
    args.forEach((a, k) => { i32[((ctx + CTX.size) >> 2) + k] = a; });
    return ctx;
  }

  field(ctx: number, f: keyof typeof CTX): number {
    return this.#i32()[(ctx + CTX[f]) >> 2];
  }

  pop(ctx: number): number {
    const i32 = this.#i32();
    const sp = i32[(ctx + CTX.sp) >> 2];
    if (sp <= i32[(ctx + CTX.fp) >> 2]) throw new InterpreterError(ERRNO.E_VM_UNDERFLOW, this.field(ctx, 'pc'), undefined, 'host operation: stack underflow');
    i32[(ctx + CTX.sp) >> 2] = sp - 1;
    return i32[(i32[(ctx + CTX.stack) >> 2] >> 2) + sp - 1];
  }

  push(ctx: number, v: number): void {
    const i32 = this.#i32();
    const sp = i32[(ctx + CTX.sp) >> 2];
    if (sp >= i32[(ctx + CTX.stackCap) >> 2]) throw new InterpreterError(ERRNO.E_VM_OVERFLOW, this.field(ctx, 'pc'), undefined, 'host operation: stack overflow');
    i32[(i32[(ctx + CTX.stack) >> 2] >> 2) + sp] = v;
    i32[(ctx + CTX.sp) >> 2] = sp + 1;
  }

  /**
   * Runs the frame until it halts, exits, or `budget` instructions (0: no
   * limit) have run; host operations are performed in between. The thread
   * must be attached. `poll: false` runs the poll-free dispatch loop (for
   * measuring the poll's cost only: it never reaches a safe point).
   */
  run(ctx: number, p: LoadedProgram, opts: { budget?: number; poll?: boolean } = {}): RunResult {
    const vm = this.#vm;
    const h = this.thread.handle;
    for (;;) {
      const r = opts.poll === false ? vm.interp_run_nopoll(h, ctx, opts.budget ?? 0) : vm.interp_run(h, ctx, opts.budget ?? 0);
      if (r === R.HALTED) return { status: 'halted', output: this.output };
      if (r === R.BUDGET) return { status: 'budget', output: this.output };
      if (r === R.HOST) {
        const op = this.field(ctx, 'hostOp');
        if (op === HOST_OPS.print) this.output.push(this.pop(ctx));
        else if (op === HOST_OPS.sleep) {
          const ms = this.pop(ctx);
          const scratch = new Int32Array(new SharedArrayBuffer(4));
          this.thread.allowThreads(() => Atomics.wait(scratch, 0, 0, Math.max(0, ms)));
        } else if (op === HOST_OPS.exit) {
          return { status: 'exited', output: this.output, exitCode: this.pop(ctx) };
        } else if (op === HOST_OPS.spawn) {
          this.#spawn(ctx, p);
        } else if (op === HOST_OPS.join) {
          this.#join(ctx);
        } else if (op === HOST_OPS.fork) {
          // the child resumes this very frame from the snapshot, with 0 pushed
          const { pid } = this.thread.fork({ data: { program: programRef(p), ctx } });
          this.push(ctx, pid);
        } else if (op === HOST_OPS.waitpid) {
          this.push(ctx, this.thread.waitpid(this.pop(ctx)));
        } else {
          throw new InterpreterError(ERRNO.E_VM_BAD_OPCODE, this.field(ctx, 'pc') - 1, p.lines[this.field(ctx, 'pc') - 1], `unknown host operation ${op}`);
        }
        continue;
      }
      const pc = this.field(ctx, 'errorPc');
      const what = isVmStatus(r) ? messageOf(r) : `${messageOf(r)} (${codeName(r)})`;
      throw new InterpreterError(r, pc, p.lines[pc], what);
    }
  }
}
