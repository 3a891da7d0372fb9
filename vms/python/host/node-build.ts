// Which CPython module a Node process runs. The default build
// (build/python.wasm) runs Python at full speed and its os.fork()
// refuses; the fork build (build/python-fork-anywhere.wasm: the same module
// through scripts/asyncify-fork.mjs) forks from any depth of Python and C
// frames and runs Python code slower (docs/PYTHON.md "fork").
// WASM_THREADS_PYTHON_FORK=anywhere picks it; `listed` picks the build that
// forks under the eval loop and its call paths only, at a fraction of the
// cost; fork children load the module the parent named in the fork's data.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable that picks the build. */
export const PYTHON_FORK_ENV = 'WASM_THREADS_PYTHON_FORK';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../build');

/** CPython's eval loop: Python-to-Python calls stay in its one activation (host/node/engine.ts, vmEngineUse). */
export const PYTHON_LOOP = '_PyEval_EvalFrameDefault';

/** What os.fork's OSError says in the build that cannot fork. */
export const PYTHON_FORK_REFUSAL = `run with ${PYTHON_FORK_ENV}=anywhere for the build that forks (docs/PYTHON.md "fork")`;

/**
 * build/python.wasm; build/python-fork-anywhere.wasm when WASM_THREADS_PYTHON_FORK=anywhere;
 * build/python-fork-listed.wasm (forks under the functions of vms/python/fork-frames.txt only) when it is `listed`.
 */
export function pythonWasmPath(env: Record<string, string | undefined> = process.env): string {
  const choice = env[PYTHON_FORK_ENV];
  if (choice !== undefined && choice !== '' && choice !== 'anywhere' && choice !== 'listed' && choice !== 'default') {
    throw new RangeError(`${PYTHON_FORK_ENV}=${choice}: expected "anywhere", "listed" or "default"`);
  }
  return path.join(BUILD, choice === 'anywhere' ? 'python-fork-anywhere.wasm' : choice === 'listed' ? 'python-fork-listed.wasm' : 'python.wasm');
}
