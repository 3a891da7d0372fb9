// Processes a program on the pthread layer starts (posix_spawn, and with it
// Python's subprocess: vms/posix/src/spawn.c), in two halves.
//
// - A thread's `wtp_io` imports (posixIoImports): pipe() gives the thread's
//   WASI table the ends of a ring the layer claimed (vms/wasi/pipe.ts);
//   spawn() reads the layer's request from memory, holds the pipe ends the
//   child gets, and calls the process service through a call channel
//   (vms/wasi/call-channel.ts), waiting detached; kill() asks it to end one.
// - The process service (serveProcesses), on the process's host thread, whose
//   event loop is free: it starts the child with the platform's Spawner, pumps
//   bytes between each piped fd and its ring without ever blocking, and at the
//   child's exit stores its wait status where the layer's waitpid waits
//   (spawn.c struct child) and counts the exit (for wait()).
//
// A child's fds 0-2 are what the parent's fds were at the call: a pipe end (the
// service holds it until the child's side closes), an open file (its host
// descriptor, where the platform's files have them), or the process's own
// stdio, inherited. A fork child has a pipe table and a service of its own
// (startProcessIo), and its inherited pipe ends are bridged to its parent's
// pipes by that service (pipe-bridge.ts).
import { newCallChannel, remoteCall, serveCalls, errorAnswer, type Answered, type Call } from '../../wasi/call-channel.js';
import { PipeFds, newPipeFds } from '../../wasi/pipe-fds.js';
import { READ_END, WRITE_END, closeEnd, otherEnds, readSome, ringSeq, type PipeEnd } from '../../wasi/pipe.js';
import { RING_SLICE_MS, ringChangeAsync, writeAllAsync } from './ring-wait.js';
import { bridgeEnds, type BridgedEnd, type ParentCall } from './pipe-bridge.js';
import { listForFork, readRecord, releaseRecord } from './fork-pipes.js';
import { Errno, wasiErrno, type FdTarget, type Wasi } from '../../wasi/wasi.js';

/** The bytes of a process channel: a request's JSON (argv and environment) fits. */
export const PROCESS_CHANNEL_BYTES = 1 << 20;

/**
 * What a child's fd 0, 1 or 2 is. 'output': the process's own stdout or stderr where that is not the host's fd (a
 * capture, an output log): the service passes the child's bytes on to it.
 */
export type ChildFd = { kind: 'inherit' } | { kind: 'closed' } | { kind: 'output' } | { kind: 'file'; hostFd: number } | { kind: 'pipe'; ring: number; end: PipeEnd['end'] };

/** A spawn as the service gets it. */
export interface SpawnSpec {
  path: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdio: [ChildFd, ChildFd, ChildFd];
  newSession: boolean;
  /** Find a bare `path` on the child's PATH. */
  search: boolean;
}

/** A byte stream into the child (its stdin): write resolves once the bytes are taken. */
export interface ChildInput {
  write(bytes: Uint8Array): Promise<void>;
  end(): void;
}

/** A running child as the platform gives it. */
export interface SpawnedChild {
  pid: number;
  /** The child's fd 0 when it is a pipe. */
  stdin?: ChildInput;
  /** Each piped output (fd 1, 2): an async iterable of chunks, pulled as the ring takes them (the child waits meanwhile). */
  output: Partial<Record<1 | 2, AsyncIterable<Uint8Array>>>;
  /** Linux's wait status once it has exited. */
  exited: Promise<number>;
  /** Ends it with signal `signal` (0: only checks it runs); false when it has exited. */
  kill(signal: number): boolean;
  /** The child no longer keeps the host's event loop alive (the process has ended). */
  unref(): void;
}

/** How a platform starts a process (under Node: node-spawn.ts). Rejects with an error whose `code` names why (ENOENT…). */
export interface Spawner {
  spawn(spec: SpawnSpec): Promise<SpawnedChild>;
}

// ---- the thread's half ------------------------------------------------------

/** Byte offsets of the layer's request (vms/posix/src/spawn.c struct request). */
const REQ = { path: 0, argv: 4, envp: 8, cwd: 12, stdio: 16, flags: 28, status: 32, exits: 36, search: 40 } as const;
const REQ_NEW_SESSION = 1;

function cString(memory: WebAssembly.Memory, ptr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  let end = ptr;
  while (bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.slice(ptr, end));
}

function cStrings(memory: WebAssembly.Memory, ptr: number): string[] {
  const out: string[] = [];
  const v = new DataView(memory.buffer);
  for (let p = ptr; ; p += 4) {
    const s = v.getUint32(p, true);
    if (!s) return out;
    out.push(cString(memory, s));
  }
}

const childFd = (t: FdTarget): ChildFd => (t.kind === 'stdio' ? { kind: 'inherit' } : t);

/** What a thread's fork takes from its `wtp_io` imports: the record of the pipe ends its child inherits (fork-pipes.ts). */
export interface ForkPipesCell { record: number }

/**
 * The `wtp_io` imports of one thread's instance: `wasi` is the thread's table, `channel` the process service's (absent:
 * spawn fails with ENOSYS), `blocking` runs the wait for the service detached; `forking` gets the record of the
 * thread's fork in progress (the fork imports hand it to the child).
 */
export function posixIoImports(memory: WebAssembly.Memory, wasi: () => Wasi, channel: SharedArrayBuffer | undefined,
  blocking: <T>(f: () => T) => T, forking: ForkPipesCell = { record: 0 }): Record<string, (...args: number[]) => number> {
  const call = (m: string, a: unknown[]) => remoteCall(channel!, blocking, 'the process service has stopped', m, a).ok;
  return {
    // before the copy: the descriptors the child gets, each end held for it (pipe.c before_fork)
    fork_pipes(record: number, cap: number): number {
      forking.record = record;
      return listForFork(memory, record, cap, wasi().listPipes());
    },
    fork_pipes_release(record: number): number {
      releaseRecord(memory, record);
      return 0;
    },
    // the fork child's first thread: each inherited descriptor at its number on its local ring, bridged by the service
    inherit_pipes(record: number, locals: number): number {
      const ends = readRecord(memory, record);
      const local = new Int32Array(memory.buffer, locals, ends.length);
      const bridged = new Map<string, BridgedEnd>();
      ends.forEach((e, i) => {
        if (!local[i] || !wasi().inheritPipe(e.fd, { ring: local[i], end: e.end }, e.flags)) return;
        bridged.set(`${e.ring}:${e.end}`, { parent: e.ring, end: e.end, local: local[i] });
      });
      // without a bridge the pump's end of each local ring goes (pipe.c counted it): end of file, no reader
      const unbridged = (code?: string) => {
        for (const b of bridged.values()) closeEnd(memory, { ring: b.local, end: b.end === READ_END ? WRITE_END : READ_END });
        return -wasiErrno(code);
      };
      if (!channel) return unbridged('ENOSYS');
      try {
        return call('bridge', [[...bridged.values()]]) as number;
      } catch (e) {
        return unbridged((e as { code?: string }).code);
      }
    },
    pipe(ring: number, fds: number): number {
      const [r, w] = wasi().openPipe(ring);
      const v = new DataView(memory.buffer);
      v.setInt32(fds, r, true);
      v.setInt32(fds + 4, w, true);
      return 0;
    },
    spawn(req: number): number {
      if (!channel) return -Errno.NOSYS;
      // the layer asks whether processes start here
      if (!req) return call('can_spawn', []) ? 0 : -Errno.NOSYS;
      const v = new DataView(memory.buffer);
      const at = (k: keyof typeof REQ) => v.getUint32(req + REQ[k], true);
      // the child's ends are held before the parent can close its own: the service lets them go
      const held: PipeEnd[] = [];
      const stdio: ChildFd[] = [];
      for (let i = 0; i < 3; i++) {
        const fd = v.getInt32(req + REQ.stdio + 4 * i, true);
        const t = fd < 0 ? undefined : wasi().holdTarget(fd);
        if (fd >= 0 && !t) {
          for (const p of held) closeEnd(memory, p);
          return -Errno.BADF;
        }
        if (t?.kind === 'pipe') held.push(t);
        stdio.push(t ? childFd(t) : { kind: 'closed' });
      }
      const env: Record<string, string> = {};
      for (const kv of cStrings(memory, at('envp'))) {
        const eq = kv.indexOf('=');
        if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const spec: SpawnSpec = {
        path: cString(memory, at('path')), argv: cStrings(memory, at('argv')), env, cwd: cString(memory, at('cwd')),
        stdio: stdio as SpawnSpec['stdio'], newSession: (at('flags') & REQ_NEW_SESSION) !== 0, search: at('search') !== 0,
      };
      try {
        return call('spawn', [spec, at('status'), at('exits')]) as number;
      } catch (e) {
        // the service did not take the ends
        for (const p of held) closeEnd(memory, p);
        return -wasiErrno((e as { code?: string }).code);
      }
    },
    kill(pid: number, signal: number): number {
      if (!channel) return -71; // ESRCH: no child of this process
      try {
        return call('kill', [pid, signal]) as number;
      } catch (e) {
        return -wasiErrno((e as { code?: string }).code);
      }
    },
  };
}

/** The `wtp_io` imports of an instance that starts nothing (the host's own instance). */
export function posixNoIoImports(): Record<string, (...args: number[]) => number> {
  return {
    pipe: () => -Errno.NOSYS, spawn: () => -Errno.NOSYS, kill: () => -71,
    fork_pipes: () => 0, fork_pipes_release: () => 0, inherit_pipes: () => -Errno.NOSYS,
  };
}

// ---- the service's half -------------------------------------------------------

/** The child's stdin from a ring's read end, until no writer is left or the child is gone; the end let go then. */
async function pumpIn(memory: WebAssembly.Memory, ring: number, input: ChildInput, gone: () => boolean): Promise<void> {
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const seq = ringSeq(memory, ring);
      const n = readSome(memory, ring, buf);
      if (n) {
        await input.write(buf.slice(0, n));
        continue;
      }
      if (gone() || otherEnds(memory, { ring, end: READ_END }) === 0) break;
      await ringChangeAsync(memory, ring, seq, RING_SLICE_MS);
    }
  } catch {
    // the child closed its stdin: the parent's next write finds no reader
  } finally {
    input.end();
    closeEnd(memory, { ring, end: READ_END });
  }
}

/** A child's output into a ring's write end, waiting for room; once no reader is left, the rest is dropped. */
async function pumpOut(memory: WebAssembly.Memory, ring: number, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const chunk of chunks) await writeAllAsync(memory, ring, chunk);
  } catch {
    // the stream failed: end of file for the reader
  } finally {
    closeEnd(memory, { ring, end: WRITE_END });
  }
}

/**
 * Serves spawns and kills on `channel` for the process whose memory is `memory`, with `spawner`'s children (none: a
 * spawn fails with ENOSYS, as in a page), and, in a fork child, the bridges of its inherited pipe ends through
 * `parent` (pipe-bridge.ts). stop(): no more calls; the children still running no longer keep the host alive (a
 * process's children outlive it); it settles once the server has left its loop.
 */
export function serveProcesses(channel: SharedArrayBuffer, memory: WebAssembly.Memory, spawner: Spawner | undefined,
  output?: (fd: 1 | 2, bytes: Uint8Array) => void, parent?: ParentCall): { stop(): Promise<void> } {
  const children = new Map<number, SpawnedChild>();
  const i32 = () => new Int32Array(memory.buffer);
  const answer = async (call: Call): Promise<Answered> => {
    if (call.m === 'can_spawn') return [{ ok: spawner !== undefined }];
    if (call.m === 'bridge') {
      if (!parent) return [{ err: 'ENOSYS', message: 'no parent to bridge pipes to' }];
      void bridgeEnds(memory, parent, call.a[0] as BridgedEnd[]);
      return [{ ok: 0 }];
    }
    if (call.m === 'spawn') {
      if (!spawner) return [{ err: 'ENOSYS', message: 'no processes start here' }];
      const [spec, statusAddr, exitsAddr] = call.a as [SpawnSpec, number, number];
      // an inherited stdout or stderr goes where the process's own goes
      if (output) for (const i of [1, 2] as const) if (spec.stdio[i].kind === 'inherit') spec.stdio[i] = { kind: 'output' };
      let child: SpawnedChild;
      try {
        child = await spawner.spawn(spec);
      } catch (e) {
        return errorAnswer(e); // the caller lets the child's ends go
      }
      children.set(child.pid, child);
      let exited = false;
      spec.stdio.forEach((fd, i) => {
        const out = i > 0 ? child.output[i as 1 | 2] : undefined;
        if (fd.kind === 'output' && out) void (async () => { for await (const chunk of out) output!(i as 1 | 2, chunk); })().catch(() => undefined);
        if (fd.kind !== 'pipe') return;
        if (i === 0 && child.stdin) void pumpIn(memory, fd.ring, child.stdin, () => exited);
        else if (out) void pumpOut(memory, fd.ring, out);
        else closeEnd(memory, fd);
      });
      void child.exited.then((status) => {
        exited = true;
        children.delete(child.pid);
        // the layer's record, then the count every wait waits on (spawn.c struct child)
        Atomics.store(i32(), statusAddr / 4, status);
        Atomics.add(i32(), exitsAddr / 4, 1);
        Atomics.notify(i32(), exitsAddr / 4);
      });
      return [{ ok: child.pid }];
    }
    if (call.m === 'kill') {
      const [pid, signal] = call.a as [number, number];
      const child = children.get(pid);
      if (!child) return [{ ok: -71 }]; // ESRCH: reaped, or never this process's
      return [{ ok: child.kill(signal) ? 0 : -71 }];
    }
    return [{ err: 'ENOSYS', message: `no ${call.m}` }];
  };
  const server = serveCalls(channel, answer);
  return {
    stop() {
      for (const child of children.values()) child.unref();
      return server.stop();
    },
  };
}

/** A process's pipes and processes: what its threads' job data carry, and its end. */
export interface ProcessIo {
  /** The process service's channel. */
  processChannel: SharedArrayBuffer;
  /** The process's pipe descriptors, every thread's. */
  pipeFds: SharedArrayBuffer;
  /** The process has ended: its pipes close, and its running children no longer keep the host alive; settles once its service has stopped. */
  end(): Promise<void>;
}

/**
 * A process's pipe table and its process service (a root process's and a fork child's alike): with a spawner it
 * starts processes; a fork child's `parent` reaches its parent's fork server, for the pipes it inherited.
 */
export function startProcessIo(memory: WebAssembly.Memory, spawner?: Spawner, output?: (fd: 1 | 2, bytes: Uint8Array) => void,
  parent?: ParentCall): ProcessIo {
  const processChannel = newCallChannel(PROCESS_CHANNEL_BYTES, 'a process channel');
  const service = serveProcesses(processChannel, memory, spawner, output, parent);
  const pipeFds = newPipeFds();
  return {
    processChannel, pipeFds,
    async end() {
      // a child reading one of the pipes sees its end, as when a native process's fds close
      new PipeFds(pipeFds).closeAll(memory);
      await service.stop();
    },
  };
}
