// The pthread layer's C programs inside a page (tests/posix-browser.test.ts
// runs it in Chromium and Firefox): each runs as an in-page process, its
// threads on workers, and reports its steps and exit status. Every wait has a
// deadline.
import { startBrowserPosixProcess } from '../../vms/posix/host/browser.js';
import { captureText, newCapture } from '../../vms/posix/host/capture.js';
import { equal, within } from './page-helpers.js';
import { POSIX_BROWSER_CASES } from './posix-cases.js';

export interface PosixCaseResult { name: string; ok: boolean; error?: string }

async function runCase(name: string, steps: string[]): Promise<void> {
  const capture = newCapture(1 << 20);
  const p = await startBrowserPosixProcess(new URL(`../../../build/posix-tests/${name}.wasm`, import.meta.url), [name], { capture });
  const status = await within(120_000, () => p.status, `${name}: the process`);
  const out = captureText(capture);
  equal(status, 0, `${name}: exit status (output ${JSON.stringify(out)})`);
  equal(out.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3)), steps, `${name}: steps`);
}

export async function runPosixSuite(): Promise<PosixCaseResult[]> {
  const results: PosixCaseResult[] = [];
  for (const c of POSIX_BROWSER_CASES) {
    try {
      await runCase(c.name, c.steps);
      results.push({ name: c.name, ok: true });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}
