// Which CPython module a page's process runs (browser.ts): the default build
// (build/python.wasm) at full speed, whose os.fork() refuses, or with
// `{ fork: 'anywhere' }` the fork build (build/python-fork-anywhere.wasm),
// which forks from any depth in-page and runs Python code slower
// (docs/PYTHON.md "fork"). The page's counterpart of node-build.ts, which
// picks by an environment variable a page does not have.
import { InvalidArgumentError } from '../../../host/errors.js';

/** startBrowserPythonProcess's `fork`: 'anywhere' for the build that forks, 'default' (or absent) for the fast one. */
export type PageForkBuild = 'anywhere' | 'default';

/** What os.fork's OSError says in a page's build that cannot fork. */
export const PAGE_FORK_REFUSAL = 'start it with { fork: \'anywhere\' } for the build that forks (docs/PYTHON.md "fork")';

/** The module's file name in build/ for `fork` (validated: InvalidArgumentError, code E_ARG, for anything else). */
export function pagePythonWasm(fork: unknown): string {
  if (fork !== undefined && fork !== 'anywhere' && fork !== 'default') {
    throw new InvalidArgumentError(`startBrowserPythonProcess: fork is 'anywhere' or 'default', got ${typeof fork === 'string' ? JSON.stringify(fork) : String(fork)}`);
  }
  return fork === 'anywhere' ? 'python-fork-anywhere.wasm' : 'python.wasm';
}
