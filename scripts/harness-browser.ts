// `npm run start:browser -- --browser chromium|firefox [--json] [--duration N]
// [--threads N] [--forks N] [--report FILE.html] [--compare-cpython] …`: serves
// web/harness.html cross-origin isolated, runs the stress workload headless in
// that browser and prints the same summary as `npm start` (table, or JSON with
// ok and violations); exits 1 on any violation.
import { writeFileSync } from 'node:fs';
import { BROWSERS, launch, type BrowserName } from './browsers.js';
import { startServer } from './coi-server.js';
import { cpythonFork } from './cpython-fork.js';
import { reportHtml } from './harness-report.js';
import { STRESS_DEFAULTS, STRESS_OPTIONS, checkStressOptions, summaryRows, type StressResult } from './stress-workload.js';
import { round } from './stats-util.js';
import { arg, parseArgs } from './args.js';

const opts = parseArgs(process.argv.slice(2), {
  ...STRESS_OPTIONS, browser: arg('chromium', `the browser (${BROWSERS.join(', ')})`), json: arg(false, 'print the summary as JSON'),
  report: arg('', 'also write an HTML report to this file'), compareCpython: arg(false, "also fork CPython's threads the same way, for comparison"),
}, 'npm run start:browser --', 'the stress harness in a headless browser; exits 1 on any violation');
checkStressOptions(opts);
if (!BROWSERS.includes(opts.browser as BrowserName)) throw new Error(`--browser must be one of ${BROWSERS.join(', ')}`);
const SLACK_MS = 60_000;

const server = await startServer();
const log: string[] = [];
const page = await launch(opts.browser as BrowserName, (l) => log.push(l));
let out: { done: boolean; result?: StressResult; error?: string } | undefined;
try {
  const q = new URLSearchParams({ auto: '1' });
  for (const k of Object.keys(STRESS_DEFAULTS) as (keyof typeof STRESS_DEFAULTS)[]) q.set(k, String(opts[k]));
  await page.goto(`${server.url}web/harness.html?${q}`);
  const end = performance.now() + opts.duration * 1000 + SLACK_MS;
  for (;;) {
    out = await page.evaluate(() => window.wtcStress, undefined);
    if (out?.done) break;
    if (performance.now() > end) {
      out = { done: true, error: `the page did not finish within ${opts.duration} s + ${SLACK_MS / 1000} s` };
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
} finally {
  await page.close();
  await server.close();
}

const summary = out?.result?.summary ?? {
  ok: false, violations: [`the harness page failed: ${out?.error ?? 'no result'}`],
};
const withBrowser: Record<string, unknown> = { browser: page.version, ...summary };
if (opts.compareCpython && out?.result) {
  const py = cpythonFork({ threads: opts.threads, spinChunk: opts.spinChunk });
  withBrowser.cpython = py;
  if (typeof py === 'object') withBrowser.fork_p50_vs_cpython = round(out.result.summary.fork_p50_ms / py.p50_ms, 2);
}
if (opts.report && out?.result) writeFileSync(opts.report, reportHtml({ ...out.result, summary: withBrowser }));
if (opts.json) {
  console.log(JSON.stringify(withBrowser));
} else {
  console.table(summaryRows(withBrowser));
  if (summary.violations.length) console.error(`VIOLATIONS:\n  ${summary.violations.join('\n  ')}`);
}
if (!summary.ok && log.length) console.error(`--- page console (last lines) ---\n${log.slice(-30).join('\n')}`);
process.exitCode = summary.ok ? 0 : 1;
