// Calls from a fork child to its parent's side (docs/FORK.md, "Calls to the
// parent"), under Node's 'process' and 'thread' isolation and in Chromium and
// Firefox: the cases are tests/lib/parent-calls-cases.ts.
import { test } from 'uvu';
import { createRuntime } from '../host/node/index.js';
import { shutdown, within } from './lib/helpers.js';
import { browserSuiteTests } from './lib/browser-suite.js';
import { PARENT_CALLS_CHILD, PARENT_SERVICE, parentCallCases } from './lib/parent-calls-cases.js';

for (const isolation of ['process', 'thread'] as const) {
  const cases = parentCallCases({
    make: (service) => createRuntime({
      fork: { continuation: PARENT_CALLS_CHILD, pool: 1, isolation, ...(service ? { parentService: PARENT_SERVICE } : {}) },
    }),
    close: shutdown,
    kill: (rt, pid) => rt.main.kill(pid, 9),
    ipc: isolation === 'process',
  });
  for (const [name, fn] of cases) test(`${isolation}: ${name}`, () => within(90_000, fn));
}

await browserSuiteTests('parent calls', 'tests/browser/parent-calls-suite.js', 'runParentCallsSuite', 300_000);
test.run();
