// Bench section "python", its fork part: CPython's os.fork round trip in the fork variant
// (build/python-fork-anywhere.wasm, picked by WASM_THREADS_PYTHON_FORK=anywhere) beside Debian's python3.11 running
// the same script in the same run (scripts/cpython_fork_bench.py: fork, the child os._exit(0)s, waitpid), with 0 and
// 4 MiB of live heap and 0 and 2 spinning threads, and the pause those threads see. Each case runs native then Wasm,
// one process each, so both see the same load. Alone: `node dist/scripts/bench-python-fork.js [--quick] [--json]`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, parseArgs } from './args.js';
import { round } from './stats-util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Debian's python3.11 and the wasm-threads-python command: the pair every Python bench part compares. */
export const NATIVE = '/usr/bin/python3.11';
export const CLI = path.join(ROOT, 'dist', 'vms', 'python', 'host', 'cli.js');
const SCRIPT = path.join(ROOT, 'scripts', 'cpython_fork_bench.py');
/** The environment that picks the fork variant (docs/PYTHON.md "fork"). */
export const FORK_VARIANT_ENV = { WASM_THREADS_PYTHON_FORK: 'anywhere' };

interface Trip { p50_ms: number; p90_ms: number; p99_ms: number; n: number; pause_p50_ms?: number; pause_max_ms?: number }

function trip(cmd: string, pre: string[], env: NodeJS.ProcessEnv, threads: number, heapMib: number, loops: number): Trip {
  const r = spawnSync(cmd, [...pre, SCRIPT, '--threads', String(threads), '--heap-mib', String(heapMib), '--loops', String(loops), '--warmup', '3'],
    { encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${path.basename(SCRIPT)} --threads ${threads} --heap-mib ${heapMib}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Trip;
}

export function benchPythonFork(o: { quick: boolean; log: (s: string) => void }): Record<string, unknown> {
  if (!fs.existsSync(path.join(ROOT, 'build', 'python-fork-anywhere.wasm'))) return { skipped: 'build/python-fork-anywhere.wasm missing (npm run build:python)' };
  const loops = o.quick ? 10 : 30;
  const rows: Record<string, unknown>[] = [];
  for (const threads of [0, 2]) {
    for (const heapMib of [0, 4]) {
      const native = trip(NATIVE, [], {}, threads, heapMib, loops);
      const wasm = trip(process.execPath, [CLI], FORK_VARIANT_ENV, threads, heapMib, loops);
      const row = {
        threads, heap_mib: heapMib, n: wasm.n,
        p50_ms: wasm.p50_ms, p90_ms: wasm.p90_ms, p99_ms: wasm.p99_ms,
        native_p50_ms: native.p50_ms, native_p99_ms: native.p99_ms, ratio_p50: round(wasm.p50_ms / native.p50_ms, 2),
        pause_p50_ms: wasm.pause_p50_ms ?? null, pause_max_ms: wasm.pause_max_ms ?? null,
        native_pause_p50_ms: native.pause_p50_ms ?? null, native_pause_max_ms: native.pause_max_ms ?? null,
      };
      rows.push(row);
      o.log(`python fork ${threads} threads, ${heapMib} MiB: p50 ${row.p50_ms} ms p99 ${row.p99_ms} ms (native ${row.native_p50_ms} / ${row.native_p99_ms} ms), pause p50 ${row.pause_p50_ms} ms`);
    }
  }
  return { loops, rows };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2), {
    quick: arg(false, 'fewer forks'), json: arg(false, 'print the result as one line of JSON'),
  }, 'node dist/scripts/bench-python-fork.js', "CPython's os.fork round trip in the fork variant against native python3.11");
  const out = benchPythonFork({ quick: args.quick, log: args.json ? () => {} : (s) => console.error(s) });
  console.log(JSON.stringify(out, null, args.json ? 0 : 2));
}
