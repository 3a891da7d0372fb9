// The parent-call cases (tests/lib/parent-calls-cases.ts) in a page, run by
// tests/fork-parent-calls.test.ts in Chromium and Firefox: the page's fork
// server serves its in-page children's calls over the page's memory.
import { createRuntime } from '../../host/browser/index.js';
import { runAll, type Result } from './page-helpers.js';
import { PARENT_CALLS_CHILD, PARENT_SERVICE, parentCallCases } from '../lib/parent-calls-cases.js';

const CASE_DEADLINE_MS = 60_000;

/** Runs every case; never throws. */
export function runParentCallsSuite(): Promise<Result[]> {
  return runAll(parentCallCases({
    make: (service) => createRuntime({
      capacity: 8, fork: { continuation: PARENT_CALLS_CHILD, pool: 1, ...(service ? { parentService: PARENT_SERVICE } : {}) },
    }),
    close: (rt) => rt.close(),
  }), CASE_DEADLINE_MS);
}
