// `npm start`: the headless stress harness under Node. It runs the workload of
// scripts/stress-workload.ts (the browser harness runs the same loop), with
// forking workers beside the main thread, and prints its summary: the fork
// round trip and its parts, cold forks (the pool was empty), the fork pause
// (the world stopped for the copy) and the share of the wall time the world
// ran, with CPython's fork of the same threads in the same run when asked.
//
//   --threads N (2) --loops N (0: until the end) --warmup N forks (3) --worker-forkers N (1)
//   --spin-chunk N iterations between sleeps (200) --duration S (50) --forks N (0: no cap)
//   --seed N (1) --json --report FILE.html --compare-cpython
import { writeFileSync } from 'node:fs';
import { applyEngineFlags, createRuntime } from '../host/node/index.js';
import { cpythonFork } from './cpython-fork.js';
import { reportHtml } from './harness-report.js';
import { round } from './stats-util.js';
import { arg, parseArgs } from './args.js';
import { STRESS_OPTIONS, checkStressOptions, runStress, stressRuntimeOptions, summaryRows } from './stress-workload.js';

const opts = parseArgs(process.argv.slice(2), {
  ...STRESS_OPTIONS, workerForkers: arg(1, 'workers that fork in a loop besides the main thread'), json: arg(false, 'print the summary as JSON'),
  report: arg('', 'also write an HTML report to this file'), compareCpython: arg(false, "also fork CPython's threads the same way, for comparison"),
}, 'npm start --', 'the stress harness: interpreter threads, a mutator, forks; exits 1 on any violation');
checkStressOptions(opts);
// this command's tiering: before any compile (docs/EMBEDDING.md, "Engines")
applyEngineFlags();

const tty = process.stderr.isTTY && !opts.json;
const rt = await createRuntime(stressRuntimeOptions(opts));
// the fork server and its pool start on the first fork: a program that wants its forks warm from the first asks for them
if (stressRuntimeOptions(opts).fork) await rt.forkPoolReady();
const { summary: s, samples, hist } = await runStress(rt, opts, {
  progress: tty ? (p) => process.stderr.write(`\r[${'#'.repeat(Math.round(p.fraction * 30)).padEnd(30, '.')}] ` +
    `${p.forks} forks ${(p.forks / p.elapsedS).toFixed(1)}/s, ${Math.round(p.stops / p.elapsedS)} stops/s, counter ${p.counter}   `) : undefined,
  stalled: (verdict) => {
    console.log(opts.json ? JSON.stringify(verdict) : `VIOLATIONS:\n  ${verdict.violations.join('\n  ')}`);
    process.exit(1);
  },
});
if (tty) process.stderr.write('\n');

const summary: Record<string, unknown> = s;
if (opts.compareCpython) {
  const py = cpythonFork({ threads: opts.threads, spinChunk: opts.spinChunk });
  summary.cpython = py;
  if (typeof py === 'object') summary.fork_p50_vs_cpython = round(s.fork_p50_ms / py.p50_ms, 2);
}

if (opts.report) writeFileSync(opts.report, reportHtml({ summary, samples, hist }));
if (opts.json) {
  console.log(JSON.stringify(summary));
} else {
  console.table(summaryRows(summary));
  if (s.violations.length) console.error(`VIOLATIONS:\n  ${s.violations.join('\n  ')}`);
}
process.exitCode = s.violations.length ? 1 : 0;
