// Benchmarks. `npm run bench` prints the result object; `-- --json` prints it
// as one line; `-- --markdown docs/PERFORMANCE.md` also writes the document
// and, beside it, the result it was rendered from (docs/PERFORMANCE.json);
// `-- --from saved.json --markdown …` renders a saved result without running.
// Targets are ratios measured in the same run.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { applyEngineFlags, createRuntime, type EngineUse, type Runtime } from '../host/node/index.js';
import { handleIndex, userWordAddr } from '../host/layout.js';
import { DIAG_QUIT as D_QUIT, DIAG_SCRATCH, diagOf } from '../host/diag.js';
import { median, percentile, round } from './stats-util.js';
import { arg, parseArgs } from './args.js';
import { assemble } from '../interp/assembler.js';
import { benchStorm } from './bench-storm.js';
import { Interpreter } from '../interp/interpreter.js';
import { benchEmbed } from './bench-embed.js';
import { benchBuilds } from './bench-builds.js';
import { benchFork } from './bench-fork.js';
import { benchHarness } from './bench-harness.js';
import { benchBrowser } from './bench-browser.js';
import { benchMarkdown } from './bench-markdown.js';
import { benchLua } from './bench-lua.js';
import { benchStartup } from './bench-startup.js';
import { commandLineTieringFlags, engineFlags } from '../host/node/engine.js';
import { benchPython } from './bench-python.js';

/** The bench runs diag.wasm's loops and the reference VM. */
const LINKED: ('interp' | 'diag')[] = ['interp', 'diag'];

const args = parseArgs(process.argv.slice(2), {
  json: arg(false, 'print the result as one line of JSON'),
  quick: arg(false, 'fewer iterations: a smoke run, not figures to keep'),
  only: arg('', 'run only these sections, comma-separated (core, seqlock, fork, …: SECTIONS in scripts/bench.ts)'),
  markdown: arg('', 'also render the result into this Markdown file, and its JSON beside it'),
  from: arg('', 'render a saved result (JSON) instead of running'),
  progress: arg(false, 'with --json: log the progress to stderr all the same'),
}, 'npm run bench --', 'the benchmarks: stop-the-world, seqlock, locks, interpreter, fork, …; prints the result object');
const JOBS = new URL('./jobs/', import.meta.url);
const SPIN = new URL('spin.js', JOBS);
const DIAG = new URL('diag.js', JOBS);
const log = (s: string) => { if (!args.json || args.progress) process.stderr.write(s + '\n'); };

function progress(rt: Runtime, i: number): number {
  return Atomics.load(new Int32Array(rt.memory.buffer), userWordAddr(i, 0) >> 2) >>> 0;
}

// Spins until every worker has moved since `before` (they are running attached again).
function waitAllProgress(rt: Runtime, idx: number[], deadlineMs = 10_000): void {
  const before = idx.map((i) => progress(rt, i));
  const end = performance.now() + deadlineMs;
  while (!idx.every((i, k) => progress(rt, i) !== before[k])) {
    if (performance.now() > end) throw new Error('workers stopped making progress');
  }
}

// The headline figures call the shipped core.wasm's exports across the module
// boundary (diag.wasm imports attach, detach and poll from "core"), as an
// embedder linked against the core does.
async function coreSection(): Promise<Record<string, unknown>> {
  const rt = await createRuntime({ linked: LINKED, capacity: 16 });
  const h = rt.handle;
  const diag = diagOf(rt.core);
  rt.main.attach();
  const iters = args.quick ? 200_000 : 2_000_000;
  const cas: number[] = [];
  const ad: number[] = [];
  const poll: number[] = [];
  for (let r = 0; r < 7; r++) {
    cas.push(diag.diag_cmpxchg_pair_ns(iters));
    ad.push(diag.diag_attach_detach_ns(h, iters));
    poll.push(diag.diag_poll_ns(h, iters));
  }
  rt.main.detach();
  await rt.close();
  const out = {
    cmpxchg_pair_ns: round(median(cas), 3),
    attach_detach_ns: round(median(ad), 3),
    poll_ns: round(median(poll), 3),
    stw: [] as Record<string, number>[],
  };
  log(`core: cmpxchg pair ${out.cmpxchg_pair_ns} ns, attach+detach ${out.attach_detach_ns} ns, poll ${out.poll_ns} ns`);
  for (const threads of [1, 2, 4, 8]) out.stw.push(await stwRow(threads));
  return out;
}

async function stwRow(threads: number): Promise<Record<string, number>> {
  const rt = await createRuntime({ linked: LINKED, capacity: 16, threads, job: SPIN });
  const idx = rt.workers.map((w) => handleIndex(w.handle));
  const i32 = new Int32Array(rt.memory.buffer);
  const n = args.quick ? 100 : threads <= 2 ? 2000 : 400;
  const stw: number[] = [];
  const floor: number[] = [];
  rt.main.attach();
  const h = rt.handle;
  waitAllProgress(rt, idx);
  for (let k = 0; k < n + 20; k++) {
    waitAllProgress(rt, idx);
    const f = diagOf(rt.core).diag_floor_round(threads, 10_000);
    waitAllProgress(rt, idx);
    const t0 = performance.now();
    const r = rt.core.stop(h, 10_000);
    const r2 = rt.core.start(h);
    const t1 = performance.now();
    if (r !== 0 || r2 !== 0 || f < 0) throw new Error(`stop ${r}, start ${r2}, floor ${f}`);
    if (k >= 20) {
      stw.push((t1 - t0) * 1000);
      floor.push(f / 1000);
    }
  }
  rt.main.detach();
  Atomics.store(i32, D_QUIT >> 2, 1);
  await rt.close();
  stw.sort((a, b) => a - b);
  floor.sort((a, b) => a - b);
  const row = {
    threads,
    p50_us: round(percentile(stw, 50)),
    p99_us: round(percentile(stw, 99)),
    max_us: round(stw[stw.length - 1]),
    n: stw.length,
    floor_p50_us: round(percentile(floor, 50)),
  };
  log(`stw ${threads} worker(s): p50 ${row.p50_us} µs, p99 ${row.p99_us} µs, floor p50 ${row.floor_p50_us} µs`);
  return row;
}

async function readRun(readers: number, writer: boolean, kind: 'seqlock' | 'mutex' | 'plain'): Promise<number> {
  const rt = await createRuntime({ linked: LINKED, capacity: 16 });
  const lock = rt.createLock('mutex');
  const entry = { index: 5, tv: 11, mv: 22, value: 777 };
  rt.main.attach();
  rt.core.cache_write(rt.handle, entry.index, entry.tv, entry.mv, 777);
  rt.main.detach();
  const i32 = new Int32Array(rt.memory.buffer);
  const w = writer
    ? rt.spawn(DIAG, { op: 'cache-writer', ...entry, lock: kind === 'mutex' ? lock : -1 })
    : undefined;
  if (w) await w.registered();
  const iters = args.quick ? 200_000 : kind === 'mutex' ? 1_000_000 : 5_000_000;
  const go = DIAG_SCRATCH + 128;
  const rs = Array.from({ length: readers }, () => rt.spawn(DIAG, { op: 'read-bench', kind, lock, iters, go, ...entry }));
  await Promise.all(rs.map((r) => r.registered()));
  Atomics.store(i32, go >> 2, 1);
  const ns = (await Promise.all(rs.map((r) => r.join()))) as number[];
  Atomics.store(i32, D_QUIT >> 2, 1);
  if (w) await w.join();
  await rt.close();
  if (ns.some((x) => x < 0)) throw new Error(`${kind} read saw a wrong value`);
  return median(ns);
}

async function tornCount(readers: number, writer: boolean): Promise<number> {
  if (!writer) return 0;
  const rt = await createRuntime({ linked: LINKED, capacity: 16 });
  const i32 = new Int32Array(rt.memory.buffer);
  const w = rt.spawn(DIAG, { op: 'record-writer', rec: 6, seed: 12345 });
  await w.registered();
  const rs = Array.from({ length: readers }, () => rt.spawn(DIAG, { op: 'record-reader', rec: 6, validate: true }));
  await Promise.all(rs.map((r) => r.registered()));
  await new Promise((r) => setTimeout(r, args.quick ? 100 : 500));
  Atomics.store(i32, D_QUIT >> 2, 1);
  const torn = (await Promise.all(rs.map((r) => r.join()))) as number[];
  await w.join();
  await rt.close();
  return torn.reduce((a, b) => a + b, 0);
}

async function seqlockSection(): Promise<Record<string, number | boolean>[]> {
  const rows = [];
  for (const readers of [1, 2]) {
    for (const writer of [false, true]) {
      const row = {
        readers,
        writer,
        read_ns: round(await readRun(readers, writer, 'seqlock'), 3),
        mutex_read_ns: round(await readRun(readers, writer, 'mutex'), 3),
        plain_read_ns: round(await readRun(readers, writer, 'plain'), 3),
        torn: await tornCount(readers, writer),
      };
      log(`seqlock ${readers} reader(s)${writer ? ' + writer' : ''}: ${row.read_ns} ns, mutex ${row.mutex_read_ns} ns, plain ${row.plain_read_ns} ns, torn ${row.torn}`);
      rows.push(row);
    }
  }
  return rows;
}

// ---- interpreter -----------------------------------------------------------------

async function interpSection(): Promise<Record<string, number>> {
  const rt = await createRuntime({ linked: LINKED, capacity: 4 });
  rt.main.attach();
  const it = new Interpreter(rt.main);
  const iters = args.quick ? 200_000 : 2_000_000;
  const loop = (body: string) => it.load(assemble(`push 0\nloop: dup\npush ${iters}\nlt\njz end\n${body}\npush 1\nadd\njmp loop\nend: halt`));
  // a type with 16 attributes; the loops read the last one, so the uncached
  // lookup probes the whole table as a dictionary miss chain would
  const setup = it.load(assemble(Array.from({ length: 16 }, (_, k) => `push 3\npush ${100 + k}\nstore_attr ${k}`).join('\n') + '\nhalt'));
  it.run(it.frame(setup), setup);
  const base = loop('');
  const cached = loop('push 3\nload_attr 15\npop');
  const uncached = loop('push 3\nload_attr_uncached 15\npop');
  // ns per loop iteration and per instruction; alternating runs, medians
  const time = (p: ReturnType<typeof loop>, poll: boolean) => {
    const ctx = it.frame(p);
    const t0 = performance.now();
    it.run(ctx, p, { poll });
    const ms = performance.now() - t0;
    return { perIter: (ms * 1e6) / iters, perOp: (ms * 1e6) / it.field(ctx, 'steps') };
  };
  const withPoll: number[] = [];
  const without: number[] = [];
  const baseIter: number[] = [];
  const cachedIter: number[] = [];
  const uncachedIter: number[] = [];
  for (let r = 0; r < 9; r++) {
    const a = time(base, true);
    withPoll.push(a.perOp);
    baseIter.push(a.perIter);
    without.push(time(base, false).perOp);
    cachedIter.push(time(cached, true).perIter);
    uncachedIter.push(time(uncached, true).perIter);
  }
  rt.main.detach();
  await rt.close();
  const w = median(withPoll);
  const wo = median(without);
  const out = {
    dispatch_ns_per_op: round(w, 3),
    dispatch_ns_per_op_no_poll: round(wo, 3),
    poll_overhead_pct: round(((w - wo) / wo) * 100, 2),
    attr_cached_ns: round(median(cachedIter) - median(baseIter), 3),
    attr_uncached_ns: round(median(uncachedIter) - median(baseIter), 3),
  };
  log(`interp: ${out.dispatch_ns_per_op} ns/op with poll, ${out.dispatch_ns_per_op_no_poll} without (${out.poll_overhead_pct}%), attr cached ${out.attr_cached_ns} ns, uncached ${out.attr_uncached_ns} ns`);
  return out;
}

function targets(core: any, seqlock: any[], fork?: any, interp?: any, builds?: any): Record<string, boolean> {
  const t: Record<string, boolean> = {};
  if (builds?.['core.wasm']) t.core_wasm_le_9_kib = builds['core.wasm'].bytes <= 9 * 1024;
  if (core) {
    t.attach_detach_le_2x_cmpxchg_pair = core.attach_detach_ns <= 2 * core.cmpxchg_pair_ns;
    t.stw_p50_le_1_5x_floor = core.stw.every((r: any) => r.p50_us <= 1.5 * r.floor_p50_us);
    t.stw_1_worker_p50_le_50us = core.stw.find((r: any) => r.threads === 1)?.p50_us <= 50;
  }
  if (seqlock) {
    const two = seqlock.filter((r) => r.readers === 2);
    t.seqlock_ge_5x_faster_than_mutex_2_readers = two.every((r) => r.mutex_read_ns >= 5 * r.read_ns);
    t.seqlock_le_1_5x_plain = seqlock.every((r) => r.read_ns <= 1.5 * r.plain_read_ns);
    t.torn_zero = seqlock.every((r) => r.torn === 0);
  }
  if (interp) t.interp_poll_overhead_le_2_pct = interp.poll_overhead_pct <= 2;
  Object.assign(t, fork?.targets);
  return t;
}

type Section = (o: { quick: boolean; log: (s: string) => void }) => Promise<unknown>;
/**
 * Every section in the order it runs: a new one is one line here (`--only NAME` picks it), with the tiering its
 * Wasm runs in (host/node/engine.ts). 'vm': the figures come from threads in a loop that is one call (diag.wasm's
 * spinning workers and loops, the reference VM, Lua, CPython), as a VM's interpreter loop is, so they run as a VM
 * embedder is told to run (docs/EMBEDDING.md, "Engines"): compiled by TurboFan up front. Left to dynamic tiering,
 * such a loop stays in Liftoff, and the code around it (a stop, a start) reached TurboFan only after a thousand calls
 * or more on Node 24: a --quick run's hundred stops never did, a full run's two thousand part-way, so the figure said
 * where tiering stood. 'core': what an embedder's process runs without flags (startup, fork).
 */
const SECTIONS: [string, Section, EngineUse][] = [
  ['builds', benchBuilds, 'core'],
  ['startup', benchStartup, 'core'],
  ['core', coreSection, 'vm'],
  ['seqlock', seqlockSection, 'vm'],
  ['fork', benchFork, 'core'],
  // the harness runs as its own command, a child process with its own tiering
  ['harness', benchHarness, 'core'],
  ['interp', interpSection, 'vm'],
  ['embed', benchEmbed, 'core'],
  ['storm', benchStorm, 'vm'],
  ['browser', benchBrowser, 'core'],
  ['lua', benchLua, 'vm'],
  ['python', benchPython, 'vm'],
];

// Tiering flags are the whole process's and V8 reads them when it compiles, so a section whose tiering is not this
// process's runs alone in a child process of this command.
function inChild(name: string): unknown {
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), '--only', name, '--json', ...(args.quick ? ['--quick'] : []),
    ...(!args.json || args.progress ? ['--progress'] : [])];
  const r = spawnSync(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`bench section ${name}: its process ended with ${r.status ?? r.signal}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>)[name];
}

async function run(): Promise<Record<string, unknown>> {
  const chosen = SECTIONS.filter(([name]) => !args.only || args.only.split(',').includes(name));
  const use: EngineUse = chosen.length > 0 && chosen.every(([, , u]) => u === 'vm') ? 'vm' : 'core';
  // before any compile
  applyEngineFlags(use);
  // what the sections of each tiering ran with (a child process takes node's command line too)
  const flagsOf = (u: EngineUse) => [...new Set([...commandLineTieringFlags(), ...engineFlags(u)])].join(' ') || 'none';
  const result: Record<string, unknown> = {
    machine: {
      node: process.version, v8: process.versions.v8, v8_flags: flagsOf('core'), v8_flags_vm: flagsOf('vm'), cpus: os.cpus().length, model: os.cpus()[0]?.model,
      command: ['npm run bench --', ...process.argv.slice(2).filter((a, i, all) => a !== '--markdown' && all[i - 1] !== '--markdown')].join(' '),
    },
  };
  for (const [name, section, u] of chosen) result[name] = u === use ? await section({ quick: args.quick, log }) : inChild(name);
  result.targets = {
    ...targets(result.core, result.seqlock as any[], result.fork, result.interp, result.builds),
    ...(result.startup as any)?.targets, ...(result.harness as any)?.targets,
  };
  return result;
}

const result = args.from ? JSON.parse(readFileSync(args.from, 'utf8')) as Record<string, unknown> : await run();
if (args.markdown) {
  // the result beside the document, so a test can check the one is the other's rendering
  // the result first, so a rendering failure loses no run; rendered from its JSON form, as `--from` reads it
  const json = JSON.stringify(result, null, 1) + '\n';
  writeFileSync(args.markdown.replace(/\.md$/, '') + '.json', json);
  writeFileSync(args.markdown, benchMarkdown(JSON.parse(json)));
}
if (args.from) {
  // the result was read, not measured: nothing more to print
} else if (args.json) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  console.log(JSON.stringify(result, null, 2));
}
