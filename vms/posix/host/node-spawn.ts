// The process service's Spawner under Node (spawn.ts): a child is an OS
// process from node:child_process, its piped fds Node's pipes, its inherited
// ones the Node process's own 0-2, a file the host descriptor the WASI table
// opened (node:fs in every worker of this process: one descriptor space).
import { spawn as spawnProcess, type ChildProcess, type IOType } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ChildFd, SpawnedChild, Spawner, SpawnSpec } from './spawn.js';

const stdioOf = (fd: ChildFd): IOType | number =>
  (fd.kind === 'inherit' ? 'inherit' : fd.kind === 'closed' ? 'ignore' : fd.kind === 'file' ? fd.hostFd : 'pipe');

/** Whether fds 1 and 2 of a child are one pipe end, one file or the process's one output sink. */
function sameTarget(a: ChildFd, b: ChildFd): boolean {
  if (a.kind === 'pipe' && b.kind === 'pipe') return a.ring === b.ring && a.end === b.end;
  if (a.kind === 'file' && b.kind === 'file') return a.hostFd === b.hostFd;
  return a.kind === 'output' && b.kind === 'output';
}

/** The program's file: `path`, or a bare name found on the PATH of the child's environment; throws ENOENT, EACCES. */
function program(spec: SpawnSpec): string {
  const dirs = spec.search && !spec.path.includes('/') ? (spec.env.PATH ?? '/usr/bin:/bin').split(':').map((d) => path.resolve(spec.cwd, d || '.')) : [undefined];
  let failure: unknown;
  for (const dir of dirs) {
    const file = dir === undefined ? spec.path : path.join(dir, spec.path);
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch (e) {
      failure ??= e;
    }
  }
  throw failure;
}

/** Chunks of `stream` as an async iterable that pulls: the stream pauses while the consumer is busy. */
async function* chunks(stream: Readable): AsyncIterable<Uint8Array> {
  for await (const chunk of stream) yield chunk as Uint8Array;
}

/** Linux's wait status of a child that exited with `code` or was ended by `signal`. */
function waitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return (constants.signals[signal] ?? 9) & 0x7f;
  return ((code ?? 0) & 0xff) << 8;
}

/**
 * The Spawner of a process under Node. `nodeScripts`: Node programs of the VM's own (Python's sys.executable) that start
 * on the Node that runs this process rather than the one their first line names, so that a child runs on the engine
 * line its parent does.
 */
export function nodeSpawner(nodeScripts: readonly string[] = []): Spawner {
  return { spawn: (spec) => spawnChild(nodeScripts.includes(spec.path) ? { ...spec, path: process.execPath, argv: [spec.argv[0] ?? spec.path, spec.path, ...spec.argv.slice(1)], search: false } : spec) };
}

function spawnChild(spec: SpawnSpec): Promise<SpawnedChild> {
  return new Promise((resolve, reject) => {
    // Node finds a bare name on the PATH of the child's environment (posix_spawnp); the layer makes every other path
    // absolute. Node gives each piped fd a pipe of its own: a child whose fd 2 is its fd 1 (2>&1, subprocess's
    // stderr=STDOUT) gets it from a shell that then execs the program (same pid; argv[0] is then the program's path),
    // so that its lines stay in the order it wrote them.
    const joined = sameTarget(spec.stdio[1], spec.stdio[2]);
    const stdio = spec.stdio.map(stdioOf);
    if (joined) stdio[2] = 'ignore';
    let file = spec.path;
    let args = spec.argv.slice(1);
    if (joined) {
      // the shell's exec would fail after the spawn succeeded: the program is found first, as Node finds it
      try {
        [file, args] = ['/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', program(spec), ...args]];
      } catch (e) {
        reject(e);
        return;
      }
    }
    const proc: ChildProcess = spawnProcess(file, args, {
      argv0: joined ? 'sh' : spec.argv[0] ?? spec.path, cwd: spec.cwd, env: spec.env, stdio, detached: spec.newSession,
    });
    const exited = new Promise<number>((done) => proc.once('exit', (code, signal) => done(waitStatus(code, signal))));
    proc.once('error', (e) => reject(e));
    proc.once('spawn', () => {
      const stdin = proc.stdin;
      // a write after the child closed its stdin fails through its callback (the pump lets the end go): the stream's
      // own error event would otherwise end this process
      stdin?.on('error', () => undefined);
      resolve({
        pid: proc.pid!,
        stdin: stdin ? {
          write: (bytes) => new Promise<void>((done, fail) => stdin.write(bytes, (e) => (e ? fail(e) : done()))),
          end: () => stdin.end(),
        } : undefined,
        output: { ...(proc.stdout ? { 1: chunks(proc.stdout) } : {}), ...(proc.stderr ? { 2: chunks(proc.stderr) } : {}) },
        exited,
        kill: (signal) => (signal === 0 ? proc.exitCode === null && proc.signalCode === null : proc.kill(signal)),
        unref: () => {
          proc.unref();
          for (const s of [proc.stdin, proc.stdout, proc.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
        },
      });
    });
  });
}
