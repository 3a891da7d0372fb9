// Runs an in-page suite module in each browser (Chromium and Firefox,
// headless) on the cross-origin isolated server and turns its results into
// uvu tests named for their browser; a browser that could not run it fails
// one test with the reason and shows the end of its console.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer } from '../../scripts/coi-server.js';
import { BROWSERS, launch, type BrowserName } from '../../scripts/browsers.js';

interface CaseResult { name: string; ok: boolean; error?: string; ms?: number }

/** One browser's run: the in-page results, or why there are none. */
export interface BrowserSuiteRun { browser: BrowserName; version: string; results: CaseResult[] | string }

/**
 * `suite`: the module's path under dist/ (e.g. 'tests/browser/posix-suite.js'); `run`: its export returning the
 * results, called with `arg` (structured-cloneable: the cases, when the Node side makes them).
 */
export async function browserSuiteTests(label: string, suite: string, run: string, deadlineMs: number, arg?: unknown): Promise<BrowserSuiteRun[]> {
  const browsers = (process.env.BROWSERS?.split(',') as BrowserName[] | undefined) ?? BROWSERS;
  // the suite's own server: its tree does not change while it runs
  const server = await startServer(0, '127.0.0.1', { immutable: true });
  const results: BrowserSuiteRun[] = [];
  for (const name of browsers) {
    const log: string[] = [];
    let page: Awaited<ReturnType<typeof launch>> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let out: CaseResult[] | string;
    try {
      page = await launch(name, (l) => log.push(l));
      await page.goto(`${server.url}web/blank.html`);
      const late = new Promise<string>((r) => { timer = setTimeout(() => r(`the ${label} suite did not finish within ${deadlineMs} ms`), deadlineMs); });
      out = await Promise.race([page.evaluate(async ({ url, fn, a }) => (await import(url))[fn](a), { url: `${server.url}dist/${suite}`, fn: run, a: arg }), late]);
    } catch (e) {
      out = `${name} did not run the ${label} suite: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      clearTimeout(timer);
      await page?.close();
    }
    if (typeof out === 'string' || out.some((r) => !r.ok)) console.log(`--- ${page?.version ?? name} console ---\n${log.slice(-40).join('\n')}`);
    results.push({ browser: name, version: page?.version ?? name, results: out });
  }
  await server.close();
  for (const { browser, version, results: rs } of results) {
    if (typeof rs === 'string') {
      test(`${browser}: the ${label} suite runs`, () => assert.unreachable(rs));
      continue;
    }
    test(`${browser}: the ${label} suite ran (${version})`, () => assert.ok(rs.length > 0));
    for (const r of rs) test(`${browser}: ${label}: ${r.name}`, () => { if (!r.ok) assert.unreachable(r.error); });
  }
  return results;
}
