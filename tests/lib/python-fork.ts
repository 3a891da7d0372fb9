// The fork programs (tests/python/fork/*.py) for the python-fork*.test.ts
// files: each runs on the fork build (WASM_THREADS_PYTHON_FORK=anywhere) and
// under Debian's python3.11 with the same output, the children's included.
// One file per few programs: every fork starts a child process, and a file's
// deadline (tests/run.ts) is three minutes.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { ROOT } from './embed-tools.js';
import { PYTHON_PROGRAMS, hasNativePython, sameAsNative } from './python-run.js';
import type { StdinAnswer } from './captured-run.js';

export const FORK_PROGRAMS = path.join(PYTHON_PROGRAMS, 'fork');
export const FORK_ANYWHERE = { WASM_THREADS_PYTHON_FORK: 'anywhere' };

/** A program, or a program with the stdin it gets once its stdout shows a line. */
export type ForkProgram = string | { program: string; answer: StdinAnswer };

/** The build with a list (vms/python/fork-frames.txt): it forks under the eval loop and its call paths only. */
export const FORK_LISTED = { WASM_THREADS_PYTHON_FORK: 'listed' };

/** Registers one uvu test per program on `build` (a skip when that build or python3.11 is missing). */
export function forkProgramTests(programs: ForkProgram[], build: 'anywhere' | 'listed' = 'anywhere'): void {
  const wasm = `python-fork-${build}.wasm`;
  if (!fs.existsSync(path.join(ROOT, 'build', wasm)) || !hasNativePython()) {
    test(`python fork (skipped: build/${wasm} not built; npm run build:python)`, () => {});
    return;
  }
  for (const p of programs) {
    const { program, answer } = typeof p === 'string' ? { program: p, answer: undefined } : p;
    test(`fork program ${program}${build === 'listed' ? ' (listed build)' : ''}`, () => sameAsNative([path.join(FORK_PROGRAMS, program)], {
      env: build === 'listed' ? FORK_LISTED : FORK_ANYWHERE, timeoutMs: 170_000, answer,
    }));
  }
}
