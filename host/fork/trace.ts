// A timeline of fork round trips on one clock, to find where the time goes
// (docs/FORK.md, "Where the time goes"). With WASM_THREADS_FORK_TRACE=<file>
// in its environment, every process and thread that takes part in a fork —
// the forking thread (P), the fork server (S), the child and its carrier (C) —
// appends a line per phase to the file:
//
//   <ms since the epoch, to the µs> <OS pid>/<thread id> <P|S|C> <phase> [<detail>]
//
// The clock is performance.timeOrigin + performance.now(): the same in every
// process and worker to a few µs. scripts/fork-trace.ts groups the lines by
// fork and prints each phase's median. Node only (a page has no environment).
// Off, a phase costs one comparison; on, one write of a line (~5 µs).

type Writer = (line: string) => void;

interface NodeLike {
  pid: number;
  env: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}

// Opened on the first phase: a fork child inherits the variable, a worker its process's.
let writer: Writer | null | undefined;

function open(): Writer | null {
  const proc = (globalThis as { process?: NodeLike }).process;
  const file = proc?.env.WASM_THREADS_FORK_TRACE;
  if (!file || !proc?.getBuiltinModule) return null;
  const fs = proc.getBuiltinModule('node:fs') as typeof import('node:fs');
  const { threadId } = proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
  const fd = fs.openSync(file, 'a');
  const who = `${proc.pid}/${threadId}`;
  return (line) => void fs.writeSync(fd, `${(performance.timeOrigin + performance.now()).toFixed(3)} ${who} ${line}\n`);
}

/** Marks a phase: `side` P (the forking thread), S (the fork server) or C (a child's carrier). */
export function trace(side: 'P' | 'S' | 'C', phase: string, detail?: string | number): void {
  if (writer === undefined) writer = open();
  if (writer) writer(detail === undefined ? `${side} ${phase}` : `${side} ${phase} ${detail}`);
}
