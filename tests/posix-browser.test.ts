// The pthread layer's C programs (tests/browser/posix-suite.ts) in Chromium
// and Firefox: a program in a page, main() and its threads on workers, the
// stop-the-world from C while threads block in waits.
import { test } from 'uvu';
import { posixProgram } from './lib/posix-run.js';
import { browserSuiteTests } from './lib/browser-suite.js';
import { POSIX_BROWSER_CASES } from './browser/posix-cases.js';

if (!POSIX_BROWSER_CASES.every((c) => posixProgram(c.name))) {
  test('pthread layer in browsers (skipped: clang-19 missing outside CI)', () => {});
} else {
  await browserSuiteTests('posix', 'tests/browser/posix-suite.js', 'runPosixSuite', 150_000);
}
test.run();
