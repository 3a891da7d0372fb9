// The page suite (tests/browser/suite.ts) in real browsers: Chromium and
// Firefox, headless, against the cross-origin isolated server. Each in-page
// test becomes one test here, named for its browser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer } from '../scripts/coi-server.js';
import { BROWSERS, launch, type BrowserName } from '../scripts/browsers.js';
import type { Result } from './browser/page-helpers.js';

const SUITE_DEADLINE_MS = 120_000;
const only = process.env.BROWSER_TEST_ONLY;
const browsers = (process.env.BROWSERS?.split(',') as BrowserName[] | undefined) ?? BROWSERS;

const server = await startServer();
const results: { browser: BrowserName; version: string; results: Result[] | string }[] = [];
for (const name of browsers) {
  const log: string[] = [];
  let version = name as string;
  let out: Result[] | string;
  try {
    const page = await launch(name, (l) => log.push(l));
    version = page.version;
    try {
      await page.goto(`${server.url}web/blank.html`);
      out = await Promise.race([
        page.evaluate(async ({ url, only }) => {
          const m = await import(url);
          return m.runSuite({ only });
        }, { url: `${server.url}dist/tests/browser/suite.js`, only }),
        new Promise<string>((r) => setTimeout(() => r(`the page suite did not finish within ${SUITE_DEADLINE_MS} ms`), SUITE_DEADLINE_MS).unref()),
      ]);
    } finally {
      await page.close();
    }
  } catch (e) {
    out = `${name} did not run the suite: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (typeof out === 'string' || out.some((r) => !r.ok)) console.log(`--- ${version} console ---\n${log.slice(-40).join('\n')}`);
  results.push({ browser: name, version, results: out });
}
await server.close();

for (const { browser, version, results: rs } of results) {
  if (typeof rs === 'string') {
    test(`${browser}: the suite runs`, () => assert.unreachable(rs));
    continue;
  }
  test(`${browser}: the page suite ran (${version})`, () => assert.ok(rs.length > 0));
  for (const r of rs) test(`${browser}: ${r.name}`, () => { if (!r.ok) assert.unreachable(r.error); });
}
test.run();
