// Each docs/PERFORMANCE*.md is the rendering of one bench result: the committed
// document is exactly what scripts/bench-markdown.ts makes of the result saved
// beside it, and the rendering carries every figure of a result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchMarkdown } from '../scripts/bench-markdown.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

const RESULTS = readdirSync(DOCS).filter((f) => /^PERFORMANCE.*\.json$/.test(f));

test('each docs/PERFORMANCE*.md is the rendering of the result beside it', () => {
  assert.ok(RESULTS.includes('PERFORMANCE.json'), 'docs/PERFORMANCE.json');
  for (const json of RESULTS) {
    const md = json.replace(/\.json$/, '.md');
    const result = JSON.parse(readFileSync(`${DOCS}${json}`, 'utf8'));
    assert.fixture(readFileSync(`${DOCS}${md}`, 'utf8'), benchMarkdown(result),
      `regenerate: npm run bench -- --from docs/${json} --markdown docs/${md}`);
  }
});

test('every figure of a result, however nested, is in the document; a new section needs no change', () => {
  const result = {
    machine: { node: 'v20', cpus: 2, command: 'npm run bench -- --json' },
    core: { poll_ns: 3.27, stw: [{ threads: 1, p50_us: 0.77 }, { threads: 8, p50_us: 235.2 }] },
    fork: { rows: [{ threads: 4, heap_mib: 4, p50_ms: 95.2, breakdown: { copy: 1.61, ack: 41 } }], per_mib_ms: 1.63 },
    builds: { 'core.wasm': { bytes: 9620, gzip: 4205 }, 'interp.wasm': { bytes: 6439, gzip: 3075 } },
    lua: { startup_ms: 12.5, nested: { deeper: { figure: 77.7 } } },
    targets: { fork_per_mib_le_0_5ms: false, torn_zero: true },
  };
  const md = benchMarkdown(result);
  const leaves: [string, unknown][] = [];
  const walk = (k: string, v: unknown): void => {
    if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) walk(kk, vv);
    else leaves.push([k, v]);
  };
  walk('', result);
  for (const [k, v] of leaves) {
    const shown = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
    assert.ok(md.includes(`| ${shown} |`) || md.includes(`| ${shown}\n`) || md.includes(`\`${shown}\``), `${k} = ${v} in the document`);
  }
  assert.match(md, '## `lua`');
  assert.match(md, '`breakdown.copy`');
  assert.match(md, 'from one run of `npm run bench -- --json`');
});

test.run();
