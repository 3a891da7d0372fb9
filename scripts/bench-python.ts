// Bench section "python": build/python.wasm through the wasm-threads-python
// command against Debian's native python3.11 in the same run (the programs of
// scripts/bench_python.py, timed inside Python, interleaved, and the fork
// variant's cost on them beside the threads build), start-up beside native and
// beside wasm-threads-lua, and the sizes of the module and its standard library;
// its threads part is scripts/bench-python-threads.ts, its page part (the same programs and
// start-up in Chromium and Firefox) scripts/bench-python-page.ts, its fork part scripts/bench-python-fork.ts. Alone: `node dist/scripts/bench-python.js
// [--quick] [--json]`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { arg, parseArgs } from './args.js';
import { benchPythonThreads } from './bench-python-threads.js';
import { benchPythonPage, PYTHON_BENCH_PROGRAMS } from './bench-python-page.js';
import { benchPythonFork, CLI, FORK_VARIANT_ENV, NATIVE } from './bench-python-fork.js';
import { median, round } from './stats-util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.join(ROOT, 'build');
const LUA_CLI = path.join(ROOT, 'dist', 'vms', 'lua', 'host', 'cli.js');
const PROGRAM_FILE = path.join(ROOT, 'scripts', 'bench_python.py');

type Log = (s: string) => void;

/** One process running `name` for `rounds` rounds: the per-round times Python measured, in ms. */
function rounds(cmd: string, pre: string[], name: string, n: number, env: NodeJS.ProcessEnv = {}): number[] {
  const r = spawnSync(cmd, [...pre, PROGRAM_FILE, name, String(n)], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${name}: exit ${r.status}: ${r.stderr.slice(-500)}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number[] }).ms;
}

/** Wall time of one process, in ms. */
function wall(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}`);
  return performance.now() - t0;
}

function du(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : e.isFile() ? fs.statSync(p).size : 0;
  }
  return n;
}

export async function benchPython(opts: { quick: boolean; log: Log }): Promise<Record<string, unknown>> {
  if (!fs.existsSync(path.join(BUILD, 'python.wasm'))) return { skipped: 'build/python.wasm missing (npm run build:python)' };
  if (!fs.existsSync(NATIVE)) return { skipped: `${NATIVE} missing` };
  const reps = opts.quick ? 2 : 3;
  const perProcess = 3; // the first round of a process includes its warm-up (wasm: lazy compilation of what it runs)
  const forkVariant = fs.existsSync(path.join(BUILD, 'python-fork-anywhere.wasm'));
  // the fork build with a list (vms/python/fork-frames.txt): forks under the eval loop and its call paths only
  const forkListed = fs.existsSync(path.join(BUILD, 'python-fork-listed.wasm'));
  const programs: Record<string, {
    native_ms: number; wasm_ms: number; ratio: number; wasm_first_round_ms: number; fork_variant_ms: number | null; fork_variant_ratio: number | null;
    fork_listed_ms: number | null; fork_listed_ratio: number | null;
  }> = {};
  for (const name of PYTHON_BENCH_PROGRAMS) {
    const native: number[] = [];
    const wasm: number[] = [];
    const first: number[] = [];
    const fork: number[] = [];
    const listed: number[] = [];
    for (let i = 0; i < reps; i++) { // interleaved: all see the same machine load
      native.push(...rounds(NATIVE, [], name, perProcess).slice(1));
      const w = rounds(process.execPath, [CLI], name, perProcess);
      first.push(w[0]);
      wasm.push(...w.slice(1));
      if (forkVariant) fork.push(...rounds(process.execPath, [CLI], name, perProcess, FORK_VARIANT_ENV).slice(1));
      if (forkListed) listed.push(...rounds(process.execPath, [CLI], name, perProcess, { WASM_THREADS_PYTHON_FORK: 'listed' }).slice(1));
    }
    const row = {
      native_ms: round(median(native), 1), wasm_ms: round(median(wasm), 1), ratio: round(median(wasm) / median(native)), wasm_first_round_ms: round(median(first), 1),
      fork_variant_ms: forkVariant ? round(median(fork), 1) : null, fork_variant_ratio: forkVariant ? round(median(fork) / median(wasm)) : null,
      fork_listed_ms: forkListed ? round(median(listed), 1) : null, fork_listed_ratio: forkListed ? round(median(listed) / median(wasm)) : null,
    };
    programs[name] = row;
    opts.log(`python ${name}: native ${row.native_ms} ms, python.wasm ${row.wasm_ms} ms (${row.ratio}x; first round ${row.wasm_first_round_ms} ms), fork variant ${row.fork_variant_ms} ms (${row.fork_variant_ratio}x), listed ${row.fork_listed_ms} ms (${row.fork_listed_ratio}x)`);
  }
  const geomeanOf = (ratios: number[]) => round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length));
  const geomean = geomeanOf(Object.values(programs).map((r) => r.ratio));
  const forkGeomean = forkVariant ? geomeanOf(Object.values(programs).map((r) => r.fork_variant_ratio!)) : null;
  const listedGeomean = forkListed ? geomeanOf(Object.values(programs).map((r) => r.fork_listed_ratio!)) : null;
  const n = opts.quick ? 3 : 5;
  const startup = {
    native_ms: round(median(Array.from({ length: n }, () => wall(NATIVE, ['-c', 'pass']))), 1),
    wasm_threads_python_ms: round(median(Array.from({ length: n }, () => wall(process.execPath, [CLI, '-c', 'pass']))), 1),
    ...(fs.existsSync(path.join(BUILD, 'lua.wasm')) ? { wasm_threads_lua_ms: round(median(Array.from({ length: n }, () => wall(process.execPath, [LUA_CLI, '-e', '']))), 1) } : {}),
  };
  opts.log(`python start-up: ${JSON.stringify(startup)}`);
  const bytes = fs.readFileSync(path.join(BUILD, 'python.wasm'));
  const lib = path.join(BUILD, 'python-lib', 'lib', 'python3.11');
  const size = {
    python_wasm_bytes: bytes.length, python_wasm_gzip_bytes: gzipSync(bytes, { level: 9 }).length,
    stdlib_bytes: du(lib), stdlib_without_tests_bytes: du(lib) - du(path.join(lib, 'test')),
  };
  const page = await benchPythonPage({ ...opts, nativeMs: Object.fromEntries(Object.entries(programs).map(([k, r]) => [k, r.native_ms])) });
  const threads = await benchPythonThreads(opts);
  const fork = benchPythonFork(opts);
  const fair = (t: Record<string, unknown>) => ['threads_2', 'threads_4'].every((k) => (t[k] as { fair_within_10pct: boolean }).fair_within_10pct);
  return {
    single_thread: { reps, rounds_per_process: perProcess, programs, geomean_ratio: geomean, fork_variant_geomean_vs_threads_build: forkGeomean,
      fork_listed_geomean_vs_threads_build: listedGeomean },
    startup, size, page, threads, fork,
    targets: {
      single_thread_geomean_le_2x_native: geomean <= 2, thread_shares_fair_within_10pct: fair(threads.python_wasm as Record<string, unknown>),
      fork_variant_geomean_le_1_3x_threads_build: forkGeomean !== null && forkGeomean <= 1.3,
      fork_listed_geomean_le_1_3x_threads_build: listedGeomean !== null && listedGeomean <= 1.3,
    },
  };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2), {
    quick: arg(false, 'fewer iterations'), json: arg(false, 'print the result as one line of JSON'),
  }, 'node dist/scripts/bench-python.js', 'CPython on the core against native python3.11');
  const out = await benchPython({ quick: args.quick, log: args.json ? () => {} : (s) => console.error(s) });
  console.log(JSON.stringify(out, null, args.json ? 0 : 2));
}
