// `npm start`: the headless stress harness under Node. The workload is
// scripts/stress-workload.ts (shared with `npm run start:browser`).
//
//   --threads N (2) --loops N (0: until the end) --warmup N forks (3)
//   --spin-chunk N iterations between sleeps (200) --duration S (50) --forks N (0: no cap)
//   --seed N (1) --json --report FILE.html --compare-cpython
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../host/node/index.js';
import { STRESS_DEFAULTS, checkStressOptions, runStress, stressRuntimeOptions, summaryRows } from './stress-workload.js';
import { parseArgs, round } from './stats-util.js';

const opts = parseArgs(process.argv.slice(2), { ...STRESS_DEFAULTS, json: false, report: '', compareCpython: false });
checkStressOptions(opts);

const tty = process.stderr.isTTY && !opts.json;
const rt = await createRuntime(stressRuntimeOptions(opts));
const { summary: s, forkMs: lat, hist } = await runStress(rt, opts, {
  progress: tty
    ? (p) => process.stderr.write(`\r[${'#'.repeat(Math.round(p.fraction * 30)).padEnd(30, '.')}] ${p.forks} forks ${(p.forks / p.elapsedS).toFixed(1)}/s, ` +
      `${Math.round(p.stops / p.elapsedS)} stops/s, counter ${p.counter}   `)
    : undefined,
});
if (tty) process.stderr.write('\n');
const summary = s as Record<string, unknown>;
const violations = s.violations;

if (opts.compareCpython) {
  try {
    const script = fileURLToPath(new URL('../../scripts/cpython_fork_bench.py', import.meta.url));
    const py = JSON.parse(execFileSync('python3', [script, '--threads', String(opts.threads), '--loops', '30', '--spin-chunk', String(opts.spinChunk)], { encoding: 'utf8' }).trim());
    summary.cpython = py;
    summary.fork_p50_vs_cpython = round((summary.fork_p50_ms as number) / py.p50_ms, 2);
  } catch (e) {
    summary.cpython = `unavailable: ${e instanceof Error ? e.message.split('\n')[0] : e}`;
  }
}

if (opts.report) writeFileSync(opts.report, report(summary, lat, hist));
if (opts.json) {
  console.log(JSON.stringify(summary));
} else {
  console.table(summaryRows(summary));
  if (violations.length) console.error(`VIOLATIONS:\n  ${violations.join('\n  ')}`);
}
process.exitCode = violations.length ? 1 : 0;

// ---- report --------------------------------------------------------------------------

function bars(title: string, labels: string[], counts: number[]): string {
  const max = Math.max(1, ...counts);
  const w = 24;
  const h = 160;
  const rects = counts.map((c, i) => {
    const bh = Math.round((c / max) * h);
    return `<rect x="${i * w + 40}" y="${h - bh + 10}" width="${w - 4}" height="${bh}" fill="#4a7"><title>${labels[i]}: ${c}</title></rect>` +
      `<text x="${i * w + 40}" y="${h + 24}" font-size="9" transform="rotate(45 ${i * w + 40} ${h + 24})">${labels[i]}</text>`;
  }).join('');
  return `<h2>${title}</h2><svg width="${counts.length * w + 60}" height="${h + 70}" xmlns="http://www.w3.org/2000/svg">${rects}</svg>`;
}

function report(s: Record<string, unknown>, forkMs: number[], hist: number[]): string {
  const edges = [5, 10, 20, 30, 40, 60, 80, 100, 150, 200, 300, 500, 1000];
  const forkCounts = edges.map((e, i) => forkMs.filter((v) => v <= e && v > (edges[i - 1] ?? 0)).length);
  const first = hist.findIndex((c) => c > 0);
  const last = hist.length - 1 - [...hist].reverse().findIndex((c) => c > 0);
  const stwLabels = first < 0 ? [] : hist.slice(first, last + 1).map((_, i) => `<${(2 ** (first + i + 1) / 1000).toFixed(1)}µs`);
  const rows = Object.entries(s).map(([k, v]) => `<tr><td>${k}</td><td>${typeof v === 'object' ? JSON.stringify(v) : v}</td></tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>wasm-threads-core stress report</title>
<style>body{font:14px system-ui;margin:2em}td{padding:2px 8px;border-bottom:1px solid #ddd}</style>
<h1>Stress harness report</h1><table>${rows}</table>
${bars('Fork round trip (ms)', edges.map((e) => `≤${e}`), forkCounts)}
${first < 0 ? '' : bars('Stop-the-world latency', stwLabels, hist.slice(first, last + 1))}`;
}
