// The python section's "page" part: CPython in a page (vms/python/host/browser.ts) in Chromium and Firefox,
// headless: start-up (`-c pass` from the call to its exit status, first in a fresh page — python.wasm fetched and
// compiled — and again) and the programs of scripts/bench_python.py (rounds 2 and 3 of one process per program; the
// first round, with the browser compiling what it runs, apart), each against the native median of the same run.
// Alone: `node dist/scripts/bench-python-page.js [--quick] [--json]` (then native python3.11 is measured here).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, parseArgs } from './args.js';
import { inEachBrowser } from './each-browser.js';
import { median, round } from './stats-util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The programs of scripts/bench_python.py, each run in the page and, by bench-python.ts, in Node and natively. */
export const PYTHON_BENCH_PROGRAMS = ['recursion', 'loops', 'strings', 'dict_list', 'classes', 'exceptions', 'generators', 'floats'];
const PROGRAM_FILE = path.join(ROOT, 'scripts', 'bench_python.py');
const NATIVE = '/usr/bin/python3.11';
const PAGE_DEADLINE_MS = 600_000;
const ROUNDS = 3;

type Log = (s: string) => void;
interface PageRun { startup_first_ms: number; startup_again_ms: number[]; programs: Record<string, number[]> }

/** In the page: start-up, then each program in a process of its own; every process under a deadline. */
async function inPage({ url, source, names, again, rounds }: { url: string; source: string; names: string[]; again: number; rounds: number }): Promise<PageRun> {
  const { startBrowserPythonProcess, outputText } = await import(url) as typeof import('../vms/python/host/browser.js');
  const run = async (args: string[]): Promise<string> => {
    const p = await startBrowserPythonProcess(args);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => { timer = setTimeout(() => { p.kill(); reject(new Error(`${args.join(' ').slice(0, 80)}: no exit in 120 s`)); }, 120_000); });
    const status = await Promise.race([p.status, late]).finally(() => clearTimeout(timer));
    if (status !== 0) throw new Error(`exit ${status}: ${outputText(p.output, 2).slice(-500)}`);
    return outputText(p.output, 1);
  };
  const timed = async (args: string[]) => { const t0 = performance.now(); await run(args); return performance.now() - t0; };
  const startup_first_ms = await timed(['-c', 'pass']);
  const startup_again_ms: number[] = [];
  for (let i = 0; i < again; i++) startup_again_ms.push(await timed(['-c', 'pass']));
  const programs: Record<string, number[]> = {};
  for (const name of names) {
    const out = await run(['-c', source, name, String(rounds)]);
    programs[name] = (JSON.parse(out.trim().split('\n').pop()!) as { ms: number[] }).ms;
  }
  return { startup_first_ms, startup_again_ms, programs };
}

/** `nativeMs`: each program's native median of the same run. */
export async function benchPythonPage(opts: { quick: boolean; log: Log; nativeMs: Record<string, number> }): Promise<Record<string, unknown>> {
  const source = fs.readFileSync(PROGRAM_FILE, 'utf8');
  const names = Object.keys(opts.nativeMs);
  return inEachBrowser('python page', opts.log, PAGE_DEADLINE_MS, async (page, url) => {
    const r = await page.evaluate(inPage, { url: `${url}dist/vms/python/host/browser.js`, source, names, again: opts.quick ? 2 : 4, rounds: ROUNDS });
    const programs = Object.fromEntries(names.map((n) => {
      const ms = median(r.programs[n].slice(1));
      return [n, { ms: round(ms, 1), ratio: round(ms / opts.nativeMs[n]), first_round_ms: round(r.programs[n][0], 1) }];
    }));
    const ratios = Object.values(programs).map((p) => p.ratio);
    return {
      version: page.version,
      startup_first_ms: round(r.startup_first_ms, 1), startup_again_ms: round(median(r.startup_again_ms), 1),
      programs, geomean_ratio: round(Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length)),
    };
  });
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2), {
    quick: arg(false, 'fewer start-ups'), json: arg(false, 'print the result as one line of JSON'),
  }, 'node dist/scripts/bench-python-page.js', 'CPython in a page in Chromium and Firefox against native python3.11');
  const log = args.json ? () => {} : (s: string) => console.error(s);
  const nativeMs = Object.fromEntries(PYTHON_BENCH_PROGRAMS.map((name) => {
    const r = spawnSync(NATIVE, [PROGRAM_FILE, name, String(ROUNDS)], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${NATIVE} ${name}: exit ${r.status}`);
    return [name, median((JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number[] }).ms.slice(1))];
  }));
  const out = await benchPythonPage({ quick: args.quick, log, nativeMs });
  console.log(JSON.stringify(out, null, args.json ? 0 : 2));
}
