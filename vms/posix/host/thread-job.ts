// The job of every thread of a program on the pthread layer (process.ts),
// platform-neutral: the program's module over the process's memory on this
// worker's area, told the handle the runtime registered, then main() (role
// 'main', through the layer's wtp_command), one pthread (role 'thread'), or,
// in a fork child, the forking thread continuing (role 'child', fork-child.ts).
// exit() on any thread ends the process: the status goes to the exit cell. A
// blocking read of stdin runs detached, so a stop-the-world never waits for it,
// between the program's wtp_io_begin and wtp_io_end when it exports them.
// Each thread's files are its own WASI table's: closed as its job ends. A
// worker's instance of the program serves its next thread (instance-keeper.ts).
import type { ThreadContext } from '../../../host/worker.js';
import { STATE_MASK, ST_ATTACHED } from '../../../host/layout.js';
import { Wasi, WasiExit, type WasiOptions } from '../../wasi/wasi.js';
import { appendCapture, recordExit } from './capture.js';
import { posixForkImports, posixNoForkImports } from './fork.js';
import { appendOutput } from './output-log.js';
import { posixIoImports, type ForkPipesCell } from './spawn.js';
import { PosixInstanceKeeper } from './instance-keeper.js';
import { posixImports, ThreadUnwind, type Placement, type PosixExports, type PosixJobData } from './process.js';

// A pooled worker runs one process's threads one after another: its program instance serves them all.
const keeper = new PosixInstanceKeeper();

/** Runs `f` detached from the core when this thread is attached (only the owner moves its own slot). */
export function detached<T>(ctx: ThreadContext, f: () => T): T {
  const attached = (ctx.core.slot_word(ctx.handle & 0xff) & STATE_MASK) === ST_ATTACHED;
  if (attached) ctx.core.detach(ctx.handle);
  try {
    return f();
  } finally {
    if (attached) ctx.core.attach(ctx.handle);
  }
}

/** `platformWasi`: the thread's WASI options from the process's arguments and its `wasiData` (PosixProcessOptions). */
export async function runPosixThreadJob(ctx: ThreadContext, platformWasi: (args: string[], wasiData?: unknown) => WasiOptions): Promise<number> {
  const d = ctx.data as PosixJobData;
  const base = {
    job: d.job, core: d.core, program: d.program, args: d.args, env: d.env, exitCell: d.exitCell, capture: d.capture, output: d.output,
    wasiData: d.wasiData, programUrl: d.programUrl, forkRefusal: d.forkRefusal, identity: d.identity, processChannel: d.processChannel,
    pipeFds: d.pipeFds,
  };
  const options = platformWasi(d.args, d.wasiData);
  if (d.env) options.env = { ...(options.env ?? {}), ...d.env };
  const { capture, output } = d;
  if (capture) options.stdout = options.stderr = (b) => appendCapture(capture, b);
  if (output) {
    options.stdout = (b) => appendOutput(output, 1, b);
    options.stderr = (b) => appendOutput(output, 2, b);
  }
  let program: PosixExports | undefined = undefined;
  // A wait of the thread's WASI (a read of stdin or of a pipe, a poll, a spawn's call): detached, and a VM that holds a
  // lock of its own across its C calls (Lua's GIL) gives it up around it (wtp_io_begin/end).
  const blocking = <T>(f: () => T): T => {
    const io = program as { wtp_io_begin?: () => void; wtp_io_end?: () => void } | undefined;
    io?.wtp_io_begin?.();
    try {
      return detached(ctx, f);
    } finally {
      io?.wtp_io_end?.();
    }
  };
  options.blocking = blocking;
  options.pipeFds = d.pipeFds;
  const stdin = options.stdin;
  if (stdin) options.stdin = (buf) => blocking(() => stdin(buf));
  const { programUrl, child } = d;
  // a fork child's first thread has the forking thread's stack: no frame of it lives on above the fork's
  const stackTop = () => (child ? child.stackTop : program!.wtp_area_stack_top(d.area));
  // the pipe ends a fork of this thread lists for its child (pipe.c before_fork), handed to the child with the fork
  const forking: ForkPipesCell = { record: 0 };
  const fork = programUrl
    ? posixForkImports(() => ctx, () => ({ program: program!, stackTop: stackTop() }), () => ({ program: programUrl, args: d.args, pipes: forking.record }),
      () => ctx.memory, d.forkRefusal, d.identity)
    : undefined;
  const files = new Wasi(options);
  const placement: Placement = child
    ? { kind: 'adopt', stackPointer: child.frames?.stackPointer ?? child.stackTop, tlsBase: child.tlsBase }
    : { kind: 'area', area: d.area };
  program = await keeper.instantiate(d.program, ctx.core, ctx.memory, files, {
    wtp: posixImports(ctx.memory, base, (job, data) => ctx.spawn(job, data)), wtp_fork: fork?.imports ?? posixNoForkImports(d.identity),
    wtp_io: posixIoImports(ctx.memory, () => files, d.processChannel, blocking, forking),
  }, placement);
  // the forking thread in a fork child: libc's locks and the layer's thread bookkeeping reset, this thread its only one
  if (child) (program.wtp_after_fork_child as (h: number) => void)(ctx.handle);
  else program.wtp_set_self(ctx.handle);
  // Every export the thread runs goes through the fork driver: a fork() under it unwinds to here and rewinds.
  fork?.cfork.bind(program, d.program);
  const call = (name: string, ...args: number[]) => (fork ? fork.cfork.call(name, ...args) : (program![name] as (...a: number[]) => unknown)(...args));
  try {
    if (d.role === 'main') {
      call('wtp_command');
      recordExit(d.exitCell, 0);
      return 0;
    }
    if (child) {
      // the rewound export returning ends the child (main() exits by itself; a thread's function was the child's only one)
      const code = child.frames ? (fork!.cfork.resume(child.frames), 0) : (call('wtp_fork_child', child.arg) as number) & 0xff;
      recordExit(d.exitCell, code);
      return code;
    }
    call('wtp_thread_entry', d.thread!, ctx.handle);
    return 0;
  } catch (e) {
    if (e instanceof ThreadUnwind) {
      // pthread_exit of a child's first thread that was not its parent's main one: the process ends with it
      if (child) recordExit(d.exitCell, 0);
      return 0;
    }
    if (e instanceof WasiExit) {
      recordExit(d.exitCell, e.code);
      return e.code;
    }
    const message = `posix: thread trapped: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`;
    options.stderr(new TextEncoder().encode(message));
    recordExit(d.exitCell, 134);
    return 134;
  } finally {
    files.closeAll();
  }
}
