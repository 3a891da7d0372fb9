// A pthread-layer program in a browser page: build/core.wasm and the
// program's module fetched and compiled, the page's runtime (host/browser),
// main() and every thread a worker job (browser-job.ts). The page's main
// thread never runs the program and never blocks. fork() makes an in-page
// child (host/browser's fork service: a worker group over a fresh copy of the
// memory) that continues in browser-fork-continuation.ts, its threads on the
// parent's job module with the parent's output and files.
import { createRuntime } from '../../../host/browser/index.js';
import { startPosixProcess, type PosixProcess, type PosixProcessOptions } from './process.js';
import { fetchModule } from './page-fetch.js';

const BUILD = new URL('../../../../build/', import.meta.url);
let core: Promise<WebAssembly.Module> | undefined;

/** What a program in a page may set besides its module and arguments (process.ts PosixProcessOptions). */
export type BrowserPosixOptions = Pick<PosixProcessOptions, 'capture' | 'output' | 'env' | 'endOnWorkerDeath' | 'wasiData' | 'forkRefusal'> & {
  /** The job module of its threads: a VM's own WASI in a page (default: browser-job.js, no files). */
  job?: URL;
  /** Warm fork children kept ready (default 0: most programs never fork; a program that forks often wants 1). */
  forkPool?: number;
};

const programs = new Map<string, Promise<WebAssembly.Module>>();

/** Runs the program at `programUrl` with `args` (argv[0] first) in this page; `status` settles with its exit status. */
export async function startBrowserPosixProcess(programUrl: URL, args: string[], opts: BrowserPosixOptions = {}): Promise<PosixProcess> {
  core ??= fetchModule(new URL('core.wasm', BUILD));
  // a page that runs one program again (python.html) compiles it once
  if (!programs.has(programUrl.href)) programs.set(programUrl.href, fetchModule(programUrl));
  const program = programs.get(programUrl.href)!;
  program.catch(() => programs.delete(programUrl.href));
  return startPosixProcess({
    core: await core, program: await program, args, capture: opts.capture, output: opts.output, env: opts.env, wasiData: opts.wasiData,
    endOnWorkerDeath: opts.endOnWorkerDeath, createRuntime, job: opts.job ?? new URL('./browser-job.js', import.meta.url),
    fork: { continuation: new URL('./browser-fork-continuation.js', import.meta.url), pool: opts.forkPool ?? 0 },
    programUrl: programUrl.href, forkRefusal: opts.forkRefusal, childrenShareHost: true,
  });
}
