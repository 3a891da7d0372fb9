// CPython's os.fork() round trip with the same spinning threads, measured in
// the same run as ours (scripts/cpython_fork_bench.py), for the harnesses.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CpythonFork {
  threads: number;
  heap_mib: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  n: number;
  python: string;
  /** Each round trip, in run order. */
  samples_ms: number[];
}

/** CPython's figures, or why there are none ("unavailable: …"). */
export function cpythonFork(o: { threads: number; spinChunk: number; loops?: number; heapMib?: number }): CpythonFork | string {
  const script = fileURLToPath(new URL('../../scripts/cpython_fork_bench.py', import.meta.url));
  const args = [script, '--threads', String(o.threads), '--loops', String(o.loops ?? 30), '--spin-chunk', String(o.spinChunk),
    '--heap-mib', String(o.heapMib ?? 0), '--samples'];
  try {
    return JSON.parse(execFileSync('python3', args, { encoding: 'utf8' }).trim()) as CpythonFork;
  } catch (e) {
    return `unavailable: ${e instanceof Error ? e.message.split('\n')[0] : e}`;
  }
}
