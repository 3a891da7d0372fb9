// A C program on the pthread layer (vms/posix, docs/EMBEDDING.md "POSIX
// threads"), as a process on the runtime: its main() and every thread it
// creates run as runtime jobs on workers (thread-job.ts), one instance of the
// program's module each over the process's shared memory. The host's own
// thread keeps one instance too, which never runs the program: it allocates
// the first thread's stack before any thread exists, and answers nothing else.
// Platform-neutral: the runtime factory, the job module and the host instance
// come in as parameters.
import type { ForkConfig, Runtime, WorkerThread } from '../../../host/runtime.js';
import { waitAsync } from '../../../host/wait.js';
import { instantiateCore, type CoreExports } from '../../../host/core.js';
import type { CModuleExports } from '../../../host/embed-link.js';
import { Wasi } from '../../wasi/wasi.js';
import { appendCapture, recordExit } from './capture.js';
import { posixNoForkImports, type PosixForkData, type PosixForkPrepareData, type PosixIdentity } from './fork.js';
import { appendOutput } from './output-log.js';
import { InvalidArgumentError } from '../../../host/errors.js';
import { posixNoIoImports, startProcessIo, type Spawner } from './spawn.js';

/** The exports the layer adds to a module (vms/posix/src/thread.c, command.c). */
export interface PosixExports extends CModuleExports {
  wtp_set_self(handle: number): void;
  wtp_area_new(stackSize: number): number;
  wtp_area_free(area: number): void;
  wtp_area_tls(area: number): number;
  wtp_area_stack_top(area: number): number;
  wtp_main_tls(): number;
  wtp_main_tls_size(): number;
  wtp_thread_entry(thread: number, handle: number): void;
  [name: string]: unknown;
}

/** The memory a module linked by scripts/posix-layer.mjs declares at least (its --initial-memory), and at most. */
export const POSIX_MEMORY_INITIAL_PAGES = 64;
export const POSIX_MEMORY_MAXIMUM_PAGES = 4096;

/**
 * The process's status when its main thread's worker fails, or, with `endOnWorkerDeath`, when any thread's worker
 * dies without finishing its job (terminated, crashed, out of memory): what a native process that calls abort() shows
 * (128 + SIGABRT).
 */
export const POSIX_WORKER_DIED_STATUS = 134;

/** The first thread's C stack (main()): as large as a native main thread's usual share. */
const MAIN_STACK = 1 << 20;

/** A job's data (structured-cloneable). */
export interface PosixJobData {
  /** 'child': the forking thread continuing in a fork child (`child`), which is that process's first thread. */
  role: 'main' | 'thread' | 'child';
  /** The job module every thread runs (URL string). */
  job: string;
  core: WebAssembly.Module;
  program: WebAssembly.Module;
  /** The WASI argument vector (argv[0] first). */
  args: string[];
  /** Extra environment for the program. */
  env?: Record<string, string>;
  /** This thread's stack + TLS area (wtp_area_new). */
  area: number;
  /** The program's module as a file: URL, which a fork child loads (absent: wtp_fork fails with ENOSYS). */
  programUrl?: string;
  /** What a fork() the module cannot make says besides why (where the build that can is). */
  forkRefusal?: string;
  /** role 'thread': its pthread record (wtp_thread_entry's argument). */
  thread?: number;
  /** role 'child': where the forking thread was (fork-child.ts). */
  child?: PosixForkData;
  /** The process's pid and its parent's, as getpid and getppid answer them (a fork child's; absent: fork.ts rootIdentity). */
  identity?: PosixIdentity;
  /** [0]: 0 while the process runs, else exit status + 1 (exit() on any thread ends the process). */
  exitCell: SharedArrayBuffer;
  /** When set, fds 1 and 2 append here instead of the host's. */
  capture?: SharedArrayBuffer;
  /** When set, fds 1 and 2 append here as records with their fd, instead of the host's (output-log.ts). */
  output?: SharedArrayBuffer;
  /** What the job module's WASI options take from the process (PosixProcessOptions.wasiData). */
  wasiData?: unknown;
  /** The process service's channel (spawn.ts), when the platform starts processes. */
  processChannel?: SharedArrayBuffer;
  /** The process's pipe descriptors, every thread's (vms/wasi/pipe-fds.ts). */
  pipeFds?: SharedArrayBuffer;
}

/** pthread_exit unwinds its thread's Wasm frames with this (import wtp.unwind); the job catches it. */
export class ThreadUnwind extends Error {
  constructor() {
    super('pthread_exit');
    this.name = 'ThreadUnwind';
  }
}

/** The record's first field: the thread's area (struct __pthread in vms/posix/src/internal.h). */
const RECORD_AREA = 0;

/** The `wtp` imports of one thread's instance: `spawn` starts the job of a new thread. */
export function posixImports(memory: WebAssembly.Memory, base: Omit<PosixJobData, 'role' | 'area' | 'thread'>,
  spawn: (job: string, data: PosixJobData) => void): Record<string, (...args: number[]) => number> {
  return {
    spawn(thread: number): number {
      const area = new Uint32Array(memory.buffer, thread + RECORD_AREA, 1)[0];
      try {
        spawn(base.job, { ...base, role: 'thread', area, thread });
        return 0;
      } catch {
        return -1;
      }
    },
    unwind(): number {
      throw new ThreadUnwind();
    },
  };
}

/** Where an instance's C stack and TLS block go: a fork child's continues the forking thread's (TLS block kept). */
export type Placement = { kind: 'linked' } | { kind: 'area'; area: number } | { kind: 'adopt'; stackPointer: number; tlsBase: number };

/** The program's own import modules: `wtp` (threads), `wtp_fork` (fork; default: refuses), `wtp_io` (pipes, processes; default: none). */
export interface PosixImports {
  wtp: Record<string, (...args: number[]) => number>;
  wtp_fork?: Record<string, (...args: number[]) => number>;
  wtp_io?: Record<string, (...args: number[]) => number>;
}

/** The import object of one thread's instance of the program. */
export function posixImportObject(core: CoreExports, memory: WebAssembly.Memory, wasi: Wasi, imports: PosixImports): Record<string, Record<string, unknown>> {
  return {
    env: { memory },
    core: core as unknown as Record<string, unknown>,
    wtp: imports.wtp,
    wtp_fork: imports.wtp_fork ?? posixNoForkImports(),
    wtp_io: imports.wtp_io ?? posixNoIoImports(),
    wasi_snapshot_preview1: wasi.bind(memory).imports as unknown as Record<string, unknown>,
  };
}

/** Instantiates the program for one thread over `core`'s memory and places its stack and TLS block. */
export async function instantiatePosix(program: WebAssembly.Module, core: CoreExports, memory: WebAssembly.Memory,
  wasi: Wasi, imports: PosixImports, placement: Placement): Promise<PosixExports> {
  const instance = await WebAssembly.instantiate(program, posixImportObject(core, memory, wasi, imports) as WebAssembly.Imports);
  return placePosix(instance.exports as unknown as PosixExports, placement);
}

/** Sets an instance's stack pointer and TLS block for the thread it runs next. */
export function placePosix(x: PosixExports, placement: Placement): PosixExports {
  if (placement.kind === 'linked') {
    if ((x.__tls_size.value as number) > x.wtp_main_tls_size()) throw new RangeError('the program\'s TLS does not fit the static block');
    x.__wasm_init_tls(x.wtp_main_tls());
  } else if (placement.kind === 'area') {
    x.__stack_pointer.value = x.wtp_area_stack_top(placement.area);
    x.__wasm_init_tls(x.wtp_area_tls(placement.area));
  } else {
    x.__stack_pointer.value = placement.stackPointer;
    x.__tls_base.value = placement.tlsBase;
  }
  return x;
}

export interface PosixProcess {
  rt: Runtime;
  /**
   * The program on the host's own thread, which never runs it: for exports a host calls from its thread (Lua's
   * lwtc_interrupt before a stop-the-world).
   */
  host: PosixExports;
  /** Resolves with the exit status. */
  status: Promise<number>;
  /**
   * Ends the process from the host, whatever its threads are doing (a loop that never calls the layer included), as
   * a signal would: `status` settles with `code` (default POSIX_KILLED_STATUS) and the runtime's close ends the
   * workers and any fork children still running. Nothing the program registered runs (no atexit, no stdio flush).
   */
  kill(code?: number): void;
}

/** A process ended by kill(): what a native one killed by SIGKILL shows (128 + 9). */
export const POSIX_KILLED_STATUS = 137;

export interface PosixProcessOptions {
  core: WebAssembly.Module;
  program: WebAssembly.Module;
  args: string[];
  env?: Record<string, string>;
  /** The host's runtime factory (host/node: createRuntime). */
  createRuntime: (opts: { initialPages: number; maximumPages: number; capacity: number; fork?: ForkConfig }) => Promise<Runtime>;
  /** The fork service's settings (its continuation: fork-continuation.ts under Node); absent: no wtp_fork. */
  fork?: ForkConfig;
  /** The program's module as a file: URL, for fork children. */
  programUrl?: string;
  /** What a fork() the module cannot make says besides why (PosixJobData.forkRefusal). */
  forkRefusal?: string;
  /**
   * The fork's children run their threads on `job` with this process's output, capture, wasiData and env (a page's:
   * PosixForkPrepareData.host). Under Node a child is an OS process with fds of its own, and prepareData reaches it
   * over IPC, which carries no SharedArrayBuffer.
   */
  childrenShareHost?: boolean;
  /** The job module of the threads (thread-worker.ts under Node). */
  job: URL;
  capture?: SharedArrayBuffer;
  /** PosixJobData.output: the process's output log (output-log.ts). */
  output?: SharedArrayBuffer;
  /**
   * Given to the job module's WASI options on every thread (runPosixThreadJob's `platformWasi`), structured-cloneable:
   * what a VM's own job module needs from its host (a page's Python: the channel of its file system).
   */
  wasiData?: unknown;
  /** Registry slots: threads alive at once + 1 (default 72). */
  capacity?: number;
  /**
   * A thread's worker that dies ends the process with POSIX_WORKER_DIED_STATUS (after a line on stderr). For a VM whose
   * threads share a GIL or other locks (CPython): the thread may have died holding one, and the others would wait for
   * it forever. Without it a joiner of that thread gets PTHREAD_CANCELED and the process goes on.
   */
  endOnWorkerDeath?: boolean;
  /** How the platform starts a process (posix_spawn, Python's subprocess: spawn.ts); absent: posix_spawn fails with ENOSYS. */
  spawner?: Spawner;
  /** The spawner's Node programs of the VM's own (node-spawn.ts nodeSpawner), for the fork children's spawner too. */
  nodeScripts?: string[];
}

const PIPE_RELAY = new URL('./pipe-relay.js', import.meta.url);

/** Starts the program's main() as a job; `status` settles when any thread exits the process. */
export async function startPosixProcess(opts: PosixProcessOptions): Promise<PosixProcess> {
  // a warm fork child compiles the program before the first fork reaches it (fork-child.ts prepare)
  const prepareData: PosixForkPrepareData | undefined = opts.programUrl
    ? { program: opts.programUrl, ...(opts.nodeScripts ? { nodeScripts: opts.nodeScripts } : {}), ...shareHost(opts) } : undefined;
  // the fork server relays a child's inherited pipe ends to this process's pipes (pipe-relay.ts)
  const fork = opts.fork ? { parentService: PIPE_RELAY, ...(prepareData ? { prepareData } : {}), ...opts.fork } : undefined;
  const rt = await opts.createRuntime({ initialPages: POSIX_MEMORY_INITIAL_PAGES, maximumPages: POSIX_MEMORY_MAXIMUM_PAGES, capacity: opts.capacity ?? 72, ...(fork ? { fork } : {}) });
  const hostWasi = new Wasi({ args: opts.args, stdout: () => undefined, stderr: () => undefined });
  const core = await instantiateCore(opts.core, rt.memory);
  const host = await instantiatePosix(opts.program, core, rt.memory, hostWasi, { wtp: { spawn: () => -1, unwind: () => -1 } }, { kind: 'linked' });
  host.wtp_set_self(rt.main.handle);
  const area = host.wtp_area_new(MAIN_STACK); // before any thread runs: nobody else is in malloc
  if (!area) throw new RangeError('no memory for the main thread\'s stack');
  const exitCell = new SharedArrayBuffer(4);
  const io = startProcessIo(rt.memory, opts.spawner, outputSink(opts));
  const data: PosixJobData = {
    role: 'main', job: String(opts.job), core: opts.core, program: opts.program, args: opts.args, env: opts.env,
    area, exitCell, capture: opts.capture, output: opts.output, wasiData: opts.wasiData, programUrl: opts.fork ? opts.programUrl : undefined, forkRefusal: opts.forkRefusal,
    processChannel: io.processChannel, pipeFds: io.pipeFds,
  };
  const main = rt.spawn(opts.job, data);
  const cell = new Int32Array(exitCell);
  const report = hostReport(opts);
  if (opts.endOnWorkerDeath) rt.onSpawn((w) => w.join().catch((e: unknown) => {
    if (Atomics.load(cell, 0) !== 0) return; // the process has ended: close() terminates what is left
    report(`posix: a thread's worker died: ${why(e)}`);
    recordExit(exitCell, POSIX_WORKER_DIED_STATUS);
  }));
  let killed = false;
  const status = (async () => {
    const code = await exitStatus(exitCell, main, report);
    // a process ended from the host ends its fork children too (a page's Stop: nothing of the run goes on); one that
    // exited waits for them, as its runtime's close does
    await rt.close({ graceMs: 100, children: killed ? 'kill' : 'wait' });
    await io.end();
    return code;
  })();
  const kill = (code = POSIX_KILLED_STATUS) => {
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new InvalidArgumentError(`kill: an exit status is an integer in [0, 255], got ${String(code)}`);
    killed = true;
    recordExit(exitCell, code);
  };
  return { rt, host, status, kill };
}

/**
 * What a page's fork children share with this process (childrenShareHost). Not in the fork's data (ForkOptions.data:
 * JSON of 1 KiB at most, no SharedArrayBuffer) but in prepareData, which a page structured-clones at each hop —
 * runtime, fork server, child worker, and on to a child's own children, which inherit it — so the output log, the
 * files' channel and stdin stay the same shared buffers: a child writes into its parent's log, in the order of every
 * write, and its files are its parent's tree.
 */
function shareHost(opts: PosixProcessOptions): Pick<PosixForkPrepareData, 'compiled' | 'job' | 'host'> {
  if (!opts.childrenShareHost) return {};
  return {
    compiled: opts.program, job: String(opts.job), host: { output: opts.output, capture: opts.capture, wasiData: opts.wasiData, env: opts.env },
  };
}

/** Where a spawned child's inherited stdout and stderr go when the process's own do not go to the host's fds. */
export function outputSink(to: { output?: SharedArrayBuffer; capture?: SharedArrayBuffer }): ((fd: 1 | 2, bytes: Uint8Array) => void) | undefined {
  const { output, capture } = to;
  if (output) return (fd, bytes) => appendOutput(output, fd, bytes);
  if (capture) return (_fd, bytes) => appendCapture(capture, bytes);
  return undefined;
}

/** Where the host's own line about a process goes: where the program's stderr goes. */
export function hostReport(to: { output?: SharedArrayBuffer; capture?: SharedArrayBuffer }): (line: string) => void {
  return (line) => {
    const bytes = new TextEncoder().encode(`${line}\n`);
    if (to.output) appendOutput(to.output, 2, bytes);
    else if (to.capture) appendCapture(to.capture, bytes);
    else console.error(line);
  };
}

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * A process's exit status: the first exit any of its threads records in `exitCell`, or POSIX_WORKER_DIED_STATUS when
 * the worker of its first thread (`main`) fails before one (`report` writes the host's line about it).
 */
export async function exitStatus(exitCell: SharedArrayBuffer, main: WorkerThread, report: (line: string) => void): Promise<number> {
  const cell = new Int32Array(exitCell);
  const exited = (async () => {
    while (Atomics.load(cell, 0) === 0) await waitAsync(cell, 0, 0, 1000);
    return Atomics.load(cell, 0) - 1;
  })();
  return Promise.race([exited, main.join().then(() => exited, (e: unknown) => {
    if (Atomics.load(cell, 0) !== 0) return exited; // the process had ended: close() terminated it
    report(`posix: the main thread's worker failed: ${why(e)}`);
    return POSIX_WORKER_DIED_STATUS;
  })]);
}
