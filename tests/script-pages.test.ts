// The script pages as a person uses them (web/python.html, web/lua.html, from
// the index web/), in Chromium and Firefox: `?auto=1` runs each page's
// example, and the page must show exit status 0 and the example's output.
// The suites (tests/python-browser.test.ts, tests/lua-browser.test.ts) test
// the processes; this tests the pages around them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer } from '../scripts/coi-server.js';
import { BROWSERS, launch, type BrowserName } from '../scripts/browsers.js';
import { ensurePythonWasm } from './lib/python-run.js';
import { ensureLuaWasm } from './lib/lua-run.js';

const PAGE_DEADLINE_MS = 120_000;
const browsers = (process.env.BROWSERS?.split(',') as BrowserName[] | undefined) ?? BROWSERS;

interface Shown { status: string; out: string; links: string[] }

/**
 * In the page: waits (to `ms`) for the run's exit status, then (to 10 s more) for the output to match `last` — Lua's
 * writes reach the page on a channel of their own, which may deliver after the status — and returns what it shows.
 */
async function shown({ ms, last }: { ms: number; last: string }): Promise<Shown> {
  const text = (id: string) => document.getElementById(id)?.textContent ?? '';
  const until = async (cond: () => boolean, t: number) => {
    const end = performance.now() + t;
    while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
  };
  await until(() => /^exit status|needs|rror/.test(text('status')), ms);
  await until(() => new RegExp(last, 'm').test(text('out')), 10_000);
  return { status: text('status'), out: text('out'), links: Array.from(document.querySelectorAll('a'), (a) => a.getAttribute('href') ?? '') };
}

const pages: { page: string; last: RegExp; ready: () => boolean; check: (s: Shown) => void }[] = [
  {
    page: 'python.html',
    last: /^total /m,
    ready: ensurePythonWasm,
    check: ({ out }) => {
      // four threads print each of the 20 items once, then the total
      const items = out.split('\n').filter((l) => /^worker-[0-3]: item \d+ -> \d+$/.test(l)).map((l) => Number(/item (\d+)/.exec(l)![1]));
      assert.equal(items.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1), out);
      assert.match(out, /^total 210 in \d+\.\d\d s on 4 threads$/m);
    },
  },
  {
    page: 'lua.html',
    last: /^parent: /m,
    ready: ensureLuaWasm,
    check: ({ out }) => {
      assert.ok(out.split('\n').includes('counter\t20000'), out);
      assert.match(out, /^child: I see counter = 20000, exiting with 7$/m);
      assert.match(out, /^parent: forked \d+, its status is 7$/m);
    },
  },
];

const server = await startServer();
const results: { name: string; run: () => void }[] = [];
for (const browser of browsers) {
  let page: Awaited<ReturnType<typeof launch>> | undefined;
  try {
    page = await launch(browser);
    await page.goto(`${server.url}web/`);
    const index = await page.evaluate(shown, { ms: 0, last: '' });
    results.push({ name: `${browser}: web/ links the pages`, run: () => assert.equal(index.links.slice(0, 2), ['python.html', 'lua.html']) });
    for (const p of pages) {
      if (!p.ready()) continue;
      await page.goto(`${server.url}web/${p.page}?auto=1`);
      const s = await page.evaluate(shown, { ms: PAGE_DEADLINE_MS, last: p.last.source });
      results.push({
        name: `${browser}: web/${p.page} runs its example`,
        run: () => {
          assert.match(s.status, /^exit status 0 \(\d+\.\d\d s\)$/, `${s.status}\n${s.out}`);
          p.check(s);
        },
      });
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    results.push({ name: `${browser}: the pages load`, run: () => assert.unreachable(why) });
  } finally {
    await page?.close();
  }
}
await server.close();
for (const r of results) test(r.name, r.run);
test.run();
