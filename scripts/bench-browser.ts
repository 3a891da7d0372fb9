// `npm run bench -- --only browser`: the same measurements
// (scripts/bench-browser-workload.ts) in each browser, headless, and under
// Node in the same run, beside CPython's os.fork round trip (4 threads, 4 MiB).
// Node's fork server reports no copy-complete point, so its pause runs to the child's ack.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../host/node/index.js';
import { inEachBrowser } from './each-browser.js';
import { runBrowserBench } from './bench-browser-workload.js';

const PAGE_DEADLINE_MS = 300_000;

export async function benchBrowser(opts: { quick: boolean; log: (s: string) => void }): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = await inEachBrowser('browser', opts.log, PAGE_DEADLINE_MS, async (page, url) => {
    const r = await page.evaluate(async ({ url, quick }) => {
      const bench = await import(url);
      const host = await import(new URL('../host/browser/index.js', url).href);
      return bench.runBrowserBench(host.createRuntime, quick);
    }, { url: `${url}dist/scripts/bench-browser-workload.js`, quick: opts.quick });
    return { version: page.version, ...(r as Record<string, unknown>) };
  });
  opts.log('browser: node…');
  out.node = { version: process.version, ...(await runBrowserBench(createRuntime, opts.quick)) };
  try {
    const script = fileURLToPath(new URL('../../scripts/cpython_fork_bench.py', import.meta.url));
    out.cpython_fork_4_threads_4mib = JSON.parse(execFileSync('python3',
      [script, '--threads', '4', '--heap-mib', '4', '--loops', opts.quick ? '5' : '40'], { encoding: 'utf8', timeout: 300_000 }).trim());
  } catch (e) {
    out.cpython_fork_4_threads_4mib = `unavailable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
  return out;
}
