// The Lua threads + fork suite (tests/browser/lua-suite.ts) in Chromium and
// Firefox, headless, on the cross-origin isolated server: a Lua process in a
// page, its threads on workers, its fork children in-page worker groups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer } from '../scripts/coi-server.js';
import { BROWSERS, launch, type BrowserName } from '../scripts/browsers.js';
import { ensureLuaWasm } from './lib/lua-run.js';
import type { LuaCaseResult } from './browser/lua-suite.js';

const SUITE_DEADLINE_MS = 300_000;
const browsers = (process.env.BROWSERS?.split(',') as BrowserName[] | undefined) ?? BROWSERS;

if (!ensureLuaWasm()) {
  test('Lua in browsers (skipped: clang-19 missing outside CI)', () => {});
} else {
  const server = await startServer();
  const suite = `${server.url}dist/tests/browser/lua-suite.js`;
  // One browser's run: its version, the in-page results (or why there are none) and its console.
  const runIn = async (name: BrowserName): Promise<{ browser: BrowserName; version: string; results: LuaCaseResult[] | string }> => {
    const log: string[] = [];
    let page: Awaited<ReturnType<typeof launch>> | undefined;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    try {
      page = await launch(name, (l) => log.push(l));
      await page.goto(`${server.url}web/blank.html`);
      const late = new Promise<string>((r) => { deadline = setTimeout(() => r(`the Lua suite did not finish within ${SUITE_DEADLINE_MS} ms`), SUITE_DEADLINE_MS); });
      const results = await Promise.race([page.evaluate(async (url) => (await import(url)).runLuaSuite(), suite), late]);
      if (typeof results === 'string' || results.some((r: LuaCaseResult) => !r.ok)) console.log(`--- ${page.version} console ---\n${log.slice(-40).join('\n')}`);
      return { browser: name, version: page.version, results };
    } catch (e) {
      return { browser: name, version: name, results: `${name} did not run the Lua suite: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      clearTimeout(deadline);
      await page?.close();
    }
  };
  const results = [];
  for (const name of browsers) results.push(await runIn(name));
  await server.close();

  for (const { browser, version, results: rs } of results) {
    if (typeof rs === 'string') {
      test(`${browser}: the Lua suite runs`, () => assert.unreachable(rs));
      continue;
    }
    test(`${browser}: the Lua suite ran (${version})`, () => assert.is(rs.length, 3));
    for (const r of rs) test(`${browser}: lua: ${r.name}`, () => { if (!r.ok) assert.unreachable(r.error); });
  }
}
test.run();
