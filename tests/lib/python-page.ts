// Running the Python page suite (tests/browser/python-suite.ts) from a test
// file: the build and the standard library's index it needs, and the runs in
// both browsers with each case's time printed (docs/PYTHON.md "In a page").
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { browserSuiteTests, type BrowserSuiteRun } from './browser-suite.js';
import { ROOT } from './embed-tools.js';
import { ensurePythonWasm, runPython } from './python-run.js';
import type { PythonBrowserCase } from '../browser/python-suite.js';
import { PYTHON_FORK_ENV, PYTHON_FORK_REFUSAL } from '../../vms/python/host/node-build.js';
import { PAGE_FORK_REFUSAL } from '../../vms/python/host/page-build.js';

/** Unbuffered, as web/python.html runs a script: each print is a write of its own, in the order they happened. */
export const PAGE_ENV = { PYTHONUNBUFFERED: '1' };

/**
 * build/python.wasm and the page's view of its library (build/python-lib.json, written by build:python; again here
 * when the tree is newer); false when the toolchain is missing outside CI (the caller skips).
 */
export function ensurePythonPage(): boolean {
  if (!ensurePythonWasm()) return false;
  const index = path.join(ROOT, 'scripts', 'python-lib-index.mjs');
  try {
    execFileSync(process.execPath, [index, '--check'], { stdio: 'ignore' });
  } catch {
    execFileSync(process.execPath, [index], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return true;
}

/** Where the command finds the standard library, and where a page has it. */
const NODE_STDLIB = path.join(ROOT, 'build', 'python-lib');
const PAGE_STDLIB = '/usr';

/**
 * A Node run's output (latin1, as captured) as a page gives it: UTF-8, paths into the standard library the page's
 * (/usr), and the default build's fork refusal naming the page's option where the command names its variable.
 */
export const pageText = (s: string): string =>
  Buffer.from(s, 'latin1').toString('utf8').split(NODE_STDLIB).join(PAGE_STDLIB).split(PYTHON_FORK_REFUSAL).join(PAGE_FORK_REFUSAL);

/** A program for nodeCases; `fork: 'anywhere'` runs the fork build on both sides. */
export interface NodeCaseProgram { name: string; source: string; stdin?: string; fork?: 'anywhere' }

/**
 * Cases whose expected output is the Node run's: each `python3.11 -c source` runs under Node through the command
 * first; its stdout and stderr as a page gives them (pageText) and its status are what the page must give.
 */
export function nodeCases(programs: NodeCaseProgram[]): Promise<PythonBrowserCase[]> {
  return Promise.all(programs.map(async ({ name, source, stdin, fork }): Promise<PythonBrowserCase> => {
    const r = await runPython(['-c', source], { env: fork ? { ...PAGE_ENV, [PYTHON_FORK_ENV]: fork } : PAGE_ENV, timeoutMs: 120_000, stdin });
    return { name, args: ['-c', source], env: PAGE_ENV, stdin, fork, stdout: pageText(r.stdout), stderr: pageText(r.stderr), status: r.status ?? -1 };
  }));
}

/** Both browsers' runs of the cases, a test each; a browser's whole run has `deadlineMs`. Resolves with the runs. */
export async function pythonPageTests(label: string, cases: PythonBrowserCase[], deadlineMs: number): Promise<BrowserSuiteRun[]> {
  const runs = await browserSuiteTests(label, 'tests/browser/python-suite.js', 'runPythonSuite', deadlineMs, cases);
  for (const run of runs) {
    if (typeof run.results === 'string') continue;
    console.log(`${run.version}: ${run.results.map((r) => `${r.name} ${Math.round(r.ms ?? 0)} ms`).join('; ')}`);
  }
  return runs;
}
