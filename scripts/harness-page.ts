// The stress harness as a page (web/harness.html): runs
// scripts/stress-workload.ts on the page's main thread with the browser host
// and draws it live with the report's charts (scripts/harness-report.ts).
// `npm run start:browser` drives it headless and reads `window.wtcStress`;
// `npm run serve` lets a person run it by hand.
import { createRuntime } from '../host/browser/index.js';
import { chartsHtml, esc } from './harness-report.js';
import { STRESS_DEFAULTS, checkStressOptions, runStress, stressRuntimeOptions, summaryRows, type StressOptions, type StressProgress, type StressResult } from './stress-workload.js';

declare global {
  interface Window { wtcStress?: { done: boolean; result?: StressResult; error?: string } }
}

function optionsFromQuery(): StressOptions {
  const q = new URLSearchParams(location.search);
  const o = { ...STRESS_DEFAULTS, duration: 20 };
  for (const k of Object.keys(o) as (keyof StressOptions)[]) {
    const v = q.get(k) ?? q.get(k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    if (v !== null) o[k] = Number(v);
  }
  checkStressOptions(o);
  return o;
}

const $ = (id: string) => document.getElementById(id)!;
const rows = (pairs: [string, unknown][]) => pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');

function draw(p: StressProgress): void {
  $('status').textContent = `running: ${Math.round(p.fraction * 100)}%`;
  $('rates').innerHTML = rows([
    ['seconds', p.elapsedS.toFixed(1)], ['forks', p.forks], ['forks/s', (p.forks / p.elapsedS).toFixed(1)],
    ['stops/s', Math.round(p.stops / p.elapsedS)], ['counter', p.counter], ['stop timeouts', p.stats.timeouts],
  ]);
  $('threads').innerHTML = '<tr><th>slot</th><th>state</th><th>stop asked</th></tr>' +
    p.threads.map((t) => `<tr><td>${t.index}</td><td class="${t.state}">${t.state}</td><td>${t.stopRequested ? 'yes' : ''}</td></tr>`).join('');
  $('charts').innerHTML = chartsHtml({ summary: {}, samples: p.samples, hist: p.stats.hist });
}

async function run(): Promise<void> {
  const button = $('start') as HTMLButtonElement;
  button.disabled = true;
  window.wtcStress = { done: false };
  try {
    const opts = optionsFromQuery();
    const rt = await createRuntime(stressRuntimeOptions(opts));
    const result = await runStress(rt, opts, {
      progress: draw, progressEveryMs: 250,
      stalled: (v) => { window.wtcStress = { done: true, error: v.violations.join('; ') }; },
    });
    $('charts').innerHTML = chartsHtml(result);
    $('summary').innerHTML = rows(summaryRows(result.summary).map((r) => [r.metric, r.value]));
    $('status').textContent = result.summary.ok ? 'ok: no violations' : `VIOLATIONS: ${result.summary.violations.join('; ')}`;
    $('status').className = result.summary.ok ? 'ok' : 'bad';
    window.wtcStress = { done: true, result };
  } catch (e) {
    $('status').textContent = `failed: ${e instanceof Error ? e.message : String(e)}`;
    $('status').className = 'bad';
    window.wtcStress = { done: true, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) };
  } finally {
    button.disabled = false;
  }
}

$('start').addEventListener('click', () => void run());
if (new URLSearchParams(location.search).get('auto') === '1') void run();
