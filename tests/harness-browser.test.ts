// A short `npm run start:browser` run: the stress workload headless in a
// browser exits 0 with ok and no violations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../scripts/harness-browser.js', import.meta.url));
const browsers = process.env.HARNESS_BROWSERS?.split(',') ?? ['chromium', 'firefox'];

for (const browser of browsers) {
  test(`start:browser --browser ${browser}: a short run has no violations`, async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, '--browser', browser, '--json', '--duration', '3', '--threads', '2'],
        { timeout: 90_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
    });
    const line = out.stdout.trim().split('\n').pop() ?? '';
    const summary = JSON.parse(line) as { ok: boolean; violations: string[]; forks: number };
    assert.equal(summary.violations, [], out.stderr);
    assert.ok(summary.ok);
    assert.ok(summary.forks > 0);
    assert.is(out.code, 0);
  });
}
test.run();
