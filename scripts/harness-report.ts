// The stress harness's charts and report, as self-contained HTML and SVG
// strings: `npm start --report FILE.html` writes the page, web/harness.html
// draws the same charts live. Platform-neutral: no DOM, no Node.
import type { ForkSample } from './jobs/harness-forker.js';
import { percentile } from './stats-util.js';

/** The fork round trip's histogram buckets (upper bounds, ms); one more bucket holds everything above. */
export const FORK_EDGES = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000];

const OURS = '#4a7';
const COLD = '#c33';
const PY = '#37c';

export const esc = (v: unknown): string =>
  String(typeof v === 'object' ? JSON.stringify(v) : v).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series { name: string; color: string; counts: number[] }

/** Bars per bucket, one per series side by side, each with its count on top. */
export function histogramSvg(labels: string[], series: Series[]): string {
  const max = Math.max(1, ...series.flatMap((s) => s.counts));
  const bw = 18;
  const group = bw * series.length + 8;
  const h = 150;
  const top = 16;
  const left = 8;
  const bars = labels.map((label, i) => {
    const x0 = left + i * group;
    const cols = series.map((s, j) => {
      const c = s.counts[i] ?? 0;
      const bh = Math.round((c / max) * h);
      const x = x0 + j * bw;
      return `<rect x="${x}" y="${top + h - bh}" width="${bw - 2}" height="${bh}" fill="${s.color}"><title>${esc(s.name)} ${esc(label)}: ${c}</title></rect>` +
        (c ? `<text x="${x + (bw - 2) / 2}" y="${top + h - bh - 3}" font-size="9" text-anchor="middle">${c}</text>` : '');
    }).join('');
    return cols + `<text x="${x0}" y="${top + h + 12}" font-size="9" transform="rotate(40 ${x0} ${top + h + 12})">${esc(label)}</text>`;
  }).join('');
  const w = left + labels.length * group + 40;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${top + h + 74}" font-family="system-ui,sans-serif">` +
    `<line x1="${left}" y1="${top + h}" x2="${w - 30}" y2="${top + h}" stroke="#888"/>${bars}${legend(series, left, top + h + 68)}</svg>`;
}

function legend(items: { name: string; color: string }[], x: number, y: number): string {
  return items.map((s, i) => `<rect x="${x + i * 150}" y="${y - 9}" width="10" height="10" fill="${s.color}"/>` +
    `<text x="${x + i * 150 + 14}" y="${y}" font-size="11">${esc(s.name)}</text>`).join('');
}

/** Counts of `ms` in FORK_EDGES's buckets and the one above. */
export function forkBuckets(ms: readonly number[]): { labels: string[]; counts: number[] } {
  const labels = [...FORK_EDGES.map((e) => `≤${e}`), `>${FORK_EDGES[FORK_EDGES.length - 1]}`];
  const counts = labels.map((_, i) => ms.filter((v) => v > (FORK_EDGES[i - 1] ?? -Infinity) && (i === FORK_EDGES.length || v <= FORK_EDGES[i])).length);
  return { labels, counts };
}

/** The core's log2 stop-latency histogram (bucket b: < 2^(b+1) ns), trimmed to its used range, labelled in µs. */
export function stwHistogramSvg(hist: readonly number[]): string {
  const first = hist.findIndex((c) => c > 0);
  if (first < 0) return '<p>no stops</p>';
  const last = hist.length - 1 - [...hist].reverse().findIndex((c) => c > 0);
  const counts = hist.slice(first, last + 1);
  return histogramSvg(counts.map((_, i) => `<${(2 ** (first + i + 1) / 1000).toFixed(1)}µs`), [{ name: 'stops', color: OURS, counts }]);
}

export function forkHistogramSvg(samples: readonly ForkSample[], cpythonMs?: readonly number[]): string {
  const ours = forkBuckets(samples.map((s) => s.ms));
  const series = [{ name: 'this run', color: OURS, counts: ours.counts }];
  if (cpythonMs?.length) series.push({ name: 'CPython os.fork', color: PY, counts: forkBuckets(cpythonMs).counts });
  return histogramSvg(ours.labels, series);
}

/**
 * The round trip of each fork over the run (cold forks marked) and, beside it
 * on the same logarithmic scale, CPython's forks of the same run in order.
 */
export function forkTimelineSvg(samples: readonly ForkSample[], cpythonMs?: readonly number[]): string {
  const py = cpythonMs ?? [];
  const all = [...samples.map((s) => s.ms), ...py].filter((v) => v > 0);
  if (all.length === 0) return '<p>no measured forks</p>';
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const h = 220;
  const top = 20;
  const axis = 60;
  const wOurs = 520;
  const wPy = py.length ? 220 : 0;
  const gap = py.length ? 30 : 0;
  const y = (v: number) => top + h - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * h;
  const grid: string[] = [];
  for (let d = lo; d <= hi; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi) break;
      grid.push(`<line x1="${axis}" x2="${axis + wOurs + gap + wPy}" y1="${y(v)}" y2="${y(v)}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>` +
        `<text x="${axis - 4}" y="${y(v) + 3}" font-size="9" text-anchor="end">${v >= 1 ? v : v.toPrecision(1)} ms</text>`);
    }
  }
  const t0 = samples.length ? samples[0].at : 0;
  const span = Math.max(1, (samples.length ? samples[samples.length - 1].at : 0) - t0);
  const dots = samples.map((s) => `<circle cx="${axis + ((s.at - t0) / span) * wOurs}" cy="${y(s.ms)}" r="2.2" fill="${s.timings.cold ? COLD : OURS}">` +
    `<title>${((s.at - t0) / 1000).toFixed(2)} s: ${s.ms.toFixed(2)} ms${s.timings.cold ? ' (cold)' : ''}</title></circle>`).join('');
  const x1 = axis + wOurs + gap;
  const pyDots = py.map((v, i) => `<circle cx="${x1 + (py.length > 1 ? (i / (py.length - 1)) * wPy : wPy / 2)}" cy="${y(v)}" r="2.2" fill="${PY}"><title>CPython fork ${i + 1}: ${v} ms</title></circle>`).join('');
  const p50 = (xs: readonly number[], from: number, to: number, color: string, name: string) => {
    if (!xs.length) return '';
    const v = percentile([...xs].sort((a, b) => a - b), 50);
    return `<line x1="${from}" x2="${to}" y1="${y(v)}" y2="${y(v)}" stroke="${color}" stroke-dasharray="4 3"/>` +
      `<text x="${to - 2}" y="${y(v) - 4}" font-size="10" text-anchor="end" fill="${color}">${name} p50 ${v.toFixed(2)} ms</text>`;
  };
  const labels = `<text x="${axis}" y="${top + h + 16}" font-size="10">0 s</text>` +
    `<text x="${axis + wOurs}" y="${top + h + 16}" font-size="10" text-anchor="end">${(span / 1000).toFixed(1)} s (this run)</text>` +
    (py.length ? `<text x="${x1 + wPy}" y="${top + h + 16}" font-size="10" text-anchor="end">CPython, fork 1…${py.length}</text>` : '');
  const keys = [{ name: 'fork (pooled child)', color: OURS }, { name: 'cold fork', color: COLD }, ...(py.length ? [{ name: 'CPython os.fork', color: PY }] : [])];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${x1 + wPy + 10}" height="${top + h + 46}" font-family="system-ui,sans-serif">` +
    grid.join('') + dots + pyDots + p50(samples.map((s) => s.ms), axis, axis + wOurs, '#163', 'ours') +
    (py.length ? p50(py, x1, x1 + wPy, PY, 'CPython') : '') + labels + legend(keys, axis, top + h + 40) + '</svg>';
}

/** The parts of the mean fork, one bar each, with its value; then the round trip p50 and CPython's on the same scale. */
export function breakdownSvg(parts: Record<string, number>, totals: { name: string; ms: number; color: string }[] = []): string {
  const entries: [string, number, string][] = [...Object.entries(parts).map(([k, v]): [string, number, string] => [k, v, OURS]), ...totals.map((t): [string, number, string] => [t.name, t.ms, t.color])];
  const max = Math.max(1e-9, ...entries.map(([, v]) => v));
  const row = 18;
  const left = 150;
  const w = 360;
  const bars = entries.map(([k, v, color], i) => `<text x="${left - 6}" y="${i * row + 13}" font-size="11" text-anchor="end">${esc(k)}</text>` +
    `<rect x="${left}" y="${i * row + 3}" width="${Math.max(1, (v / max) * w)}" height="${row - 6}" fill="${color}"/>` +
    `<text x="${left + Math.max(1, (v / max) * w) + 4}" y="${i * row + 13}" font-size="10">${v} ms</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + w + 80}" height="${entries.length * row + 6}" font-family="system-ui,sans-serif">${bars}</svg>`;
}

/** A metric/value table; an object value is a table of its own. */
export function tableHtml(rows: Record<string, unknown>): string {
  const cell = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? tableHtml(v as Record<string, unknown>) : esc(v));
  return `<table>${Object.entries(rows).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${cell(v)}</td></tr>`).join('')}</table>`;
}

/** What the report and the page draw from a finished run. */
export interface ReportInput {
  summary: Record<string, unknown>;
  samples: readonly ForkSample[];
  hist: readonly number[];
}

const cpythonSamples = (s: Record<string, unknown>): number[] | undefined =>
  typeof s.cpython === 'object' && s.cpython ? (s.cpython as { samples_ms?: number[] }).samples_ms : undefined;

/** The round trip p50 of this run and CPython's, as breakdown rows. */
function totals(s: Record<string, unknown>): { name: string; ms: number; color: string }[] {
  const out = typeof s.fork_p50_ms === 'number' ? [{ name: 'round trip p50', ms: s.fork_p50_ms, color: '#163' }] : [];
  const py = s.cpython as { p50_ms?: number } | undefined;
  if (typeof py === 'object' && typeof py?.p50_ms === 'number') out.push({ name: 'CPython os.fork p50', ms: py.p50_ms, color: PY });
  return out;
}

/** The charts of a finished run, as HTML: fork round trip over time and as a histogram, the breakdown, the stops. */
export function chartsHtml(r: ReportInput): string {
  const py = cpythonSamples(r.summary);
  const breakdown = r.summary.fork_breakdown_ms as Record<string, number> | undefined;
  return `<h2>Fork round trip over the run (ms, log scale)</h2>${forkTimelineSvg(r.samples, py)}
<h2>Fork round trip (ms): forks per bucket</h2>${forkHistogramSvg(r.samples, py)}
${breakdown ? `<h2>Fork breakdown (mean ms)</h2>${breakdownSvg(breakdown, totals(r.summary))}` : ''}
<h2>Stop-the-world latency: stops per bucket</h2>${stwHistogramSvg(r.hist)}`;
}

export const REPORT_STYLE = 'body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td{padding:2px 8px;border-bottom:1px solid #ddd;vertical-align:top}';

/** The whole report page: self-contained (no script, no external resource). */
export function reportHtml(r: ReportInput): string {
  const { cpython, violations, fork_breakdown_ms: _, ...rest } = r.summary;
  const py = typeof cpython === 'object' && cpython ? (({ samples_ms: _s, ...c }) => c)(cpython as Record<string, unknown>) : cpython;
  return `<!doctype html><meta charset="utf-8"><title>wasm-threads-core stress report</title>
<style>${REPORT_STYLE}</style>
<h1>Stress harness report</h1>
${(violations as string[] | undefined)?.length ? `<p style="color:#b00">VIOLATIONS: ${esc((violations as string[]).join('; '))}</p>` : '<p>No violations.</p>'}
${chartsHtml(r)}
<h2>Summary</h2>${tableHtml(rest)}
${py === undefined ? '' : `<h2>CPython, same run</h2>${typeof py === 'object' ? tableHtml(py as Record<string, unknown>) : `<p>${esc(py)}</p>`}`}`;
}
