// CPython in a browser page: build/python.wasm on the pthread layer's page
// process (vms/posix/host/browser.ts): main() and every Python thread a
// module Worker job (browser-job.ts) over one shared memory, the standard
// library served read-only at /usr, the other files in memory on the page
// (page-files.ts). The page's own thread never runs Python and never blocks:
// it serves the files and reads the process's output log (every write with
// its fd, in order) while the process runs. With `{ fork: 'anywhere' }` it
// runs the fork build (page-build.ts), whose os.fork makes in-page children
// that write into the same log and share the same files.
import { startBrowserPosixProcess } from '../../posix/host/browser.js';
import { newOutputLog } from '../../posix/host/output-log.js';
import type { PosixProcess } from '../../posix/host/process.js';
import { PAGE_EXECUTABLE, PAGE_HOME, startPageFiles } from './page-files.js';
import type { MemoryFs } from '../../wasi/memory-fs.js';
import { newSharedInput } from '../../wasi/shared-input.js';
import { InvalidArgumentError, UnsupportedError } from '../../../host/errors.js';
import { PAGE_FORK_REFUSAL, pagePythonWasm, type PageForkBuild } from './page-build.js';

export { readOutput, outputText, type OutputRecord } from '../../posix/host/output-log.js';
export { PAGE_EXECUTABLE, PAGE_HOME, PAGE_PREFIX } from './page-files.js';
export { PAGE_FORK_REFUSAL, type PageForkBuild } from './page-build.js';

const BUILD = new URL('../../../../build/', import.meta.url);
let served: Promise<void> | undefined;

/** The page's view of the library exists (every worker fetches it): a build without it fails here, saying why. */
function checkServed(): Promise<void> {
  served ??= fetch(new URL('python-lib.json', BUILD), { method: 'HEAD' }).then((r) => {
    if (!r.ok) throw new UnsupportedError(`build/python-lib.json: HTTP ${r.status}: the standard library's index is missing (npm run build:python writes it)`);
  });
  served.catch(() => { served = undefined; });
  return served;
}

export interface BrowserPythonProcess extends PosixProcess {
  /** The process's stdout and stderr (output-log.ts: readOutput, outputText). */
  output: SharedArrayBuffer;
  /** Its files outside /usr, in memory (readFileSync: what the program wrote), during the run and after it. */
  files: MemoryFs;
}

export interface BrowserPythonOptions {
  /** Added to the environment (HOME and PWD are /home/user; PYTHONDONTWRITEBYTECODE=1: the library is read-only). */
  env?: Record<string, string>;
  /** The output log's room in bytes (default 4 MiB; writes beyond it are dropped and the log says so). */
  outputBytes?: number;
  /** Files the program finds (absolute path outside /usr → contents; their directories are made). */
  files?: Record<string, string | Uint8Array>;
  /** Its stdin, whole (default: empty, end of file at once). */
  stdin?: string | Uint8Array;
  /** 'anywhere': the fork build, whose os.fork works (slower Python); default: the fast build, whose os.fork refuses. */
  fork?: PageForkBuild;
}

/** Runs `python3.11 args…` (e.g. ['-c', source]) in this page; `status` settles with its exit status. */
export async function startBrowserPythonProcess(args: string[], opts: BrowserPythonOptions = {}): Promise<BrowserPythonProcess> {
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new InvalidArgumentError('startBrowserPythonProcess: args is an array of strings');
  if (opts.env && !Object.values(opts.env).every((v) => typeof v === 'string')) throw new InvalidArgumentError('startBrowserPythonProcess: env maps names to strings');
  const wasm = pagePythonWasm(opts.fork);
  const output = newOutputLog(opts.outputBytes ?? 4 << 20);
  const stdin = opts.stdin === undefined ? undefined : newSharedInput(opts.stdin);
  const files = startPageFiles(opts.files);
  try {
    await checkServed();
    const p = await startBrowserPosixProcess(new URL(wasm, BUILD), [PAGE_EXECUTABLE, ...args], {
      output, job: new URL('./browser-job.js', import.meta.url), wasiData: { ...files.data, stdin },
      // the fork build is chosen to fork: a warm child makes the first fork a hand-off rather than a worker's start-up
      forkRefusal: PAGE_FORK_REFUSAL, forkPool: opts.fork === 'anywhere' ? 1 : 0,
      // a thread whose worker dies may hold the GIL: the process ends (docs/PYTHON.md "Threads")
      endOnWorkerDeath: true,
      // the library is read-only: no __pycache__ to write
      env: { PYTHONDONTWRITEBYTECODE: '1', HOME: PAGE_HOME, PWD: PAGE_HOME, ...opts.env },
    });
    return { ...p, output, files: files.memory, status: p.status.finally(() => files.stop()) };
  } catch (e) {
    files.stop();
    throw e;
  }
}
