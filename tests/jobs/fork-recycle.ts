// Fork continuation for tests/fork-recycle.test.ts: reports what the child
// finds of the JavaScript around it, then leaves something behind (or not),
// so the test can tell whether the next child of the same carrier saw it.
// Its `recycle` puts its own module state back, as the contract asks
// (docs/FORK.md, "Recycled children"); `data.keepModuleState` skips that.
import { openSync, writeFileSync } from 'node:fs';
import type { Runtime } from '../../host/runtime.js';

export interface RecycleData {
  out: string;
  /** A word of memory the child reads, then writes `mark` to. */
  word: number;
  mark: number;
  leave?: 'fd' | 'timer' | 'listener' | 'env' | 'cwd' | 'exitCode';
  code?: number;
  /** After its report, the child writes `mark` into the last word of every page of its memory, after growing it by `grow` pages. */
  scribble?: { grow: number };
  /** A job module (URL) the child starts two threads of and leaves running: its runtime's close joins them. */
  threads?: string;
  /** A job module (URL) the child starts one thread of, with `data`, after what it leaves (`leave`). */
  thread?: { job: string; data: unknown };
}

let children = 0;
let keep = false;
// what this carrier's prepare was given (fork.prepareData): the same for every child of a runtime
let prepared: unknown = null;

export function prepare({ data }: { data?: unknown }): void {
  prepared = data ?? null;
}

export function recycle(): void {
  if (!keep) children = 0;
}

export default function continuation(
  { runtime, data, restoredChecksum }: { runtime: Runtime; data: RecycleData; restoredChecksum?: number },
): number {
  children++;
  const i32 = new Int32Array(runtime.memory.buffer);
  const word = Atomics.load(i32, data.word >> 2);
  Atomics.store(i32, data.word >> 2, data.mark);
  writeFileSync(data.out, JSON.stringify({
    pid: process.pid, word, children, env: process.env.WTC_RECYCLE_PROBE ?? null, cwd: process.cwd(),
    exitCode: process.exitCode ?? null, sigusr2: process.listenerCount('SIGUSR2'),
    timers: process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
    restoredChecksum: restoredChecksum ?? null, pages: runtime.memory.buffer.byteLength / 65536, prepared,
  }));
  if (data.scribble) {
    if (data.scribble.grow) runtime.memory.grow(data.scribble.grow);
    const all = new Int32Array(runtime.memory.buffer);
    for (let at = 65536 / 4 - 1; at < all.length; at += 65536 / 4) Atomics.store(all, at, data.mark);
  }
  for (let i = 0; data.threads && i < 2; i++) runtime.spawn(data.threads, { n: i });
  switch (data.leave) {
    case 'fd': openSync(data.out, 'r'); break;
    case 'timer': setInterval(() => {}, 60_000); break;
    case 'listener': process.on('SIGUSR2', () => {}); break;
    case 'env': process.env.WTC_RECYCLE_PROBE = 'left by a child'; break;
    case 'cwd': process.chdir('/'); break;
    case 'exitCode': process.exitCode = 9; break;
  }
  if (data.thread) runtime.spawn(data.thread.job, data.thread.data);
  return data.code ?? 0;
}
