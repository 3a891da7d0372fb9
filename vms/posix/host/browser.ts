// A pthread-layer program in a browser page: build/core.wasm and the
// program's module fetched and compiled, the page's runtime (host/browser),
// main() and every thread a worker job (browser-job.ts). The page's main
// thread never runs the program and never blocks. No fork in a page yet
// (wtp_fork fails with ENOSYS).
import { createRuntime } from '../../../host/browser/index.js';
import { startPosixProcess, type PosixProcess, type PosixProcessOptions } from './process.js';

const BUILD = new URL('../../../../build/', import.meta.url);
let core: Promise<WebAssembly.Module> | undefined;

async function compile(url: URL): Promise<WebAssembly.Module> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.href}: HTTP ${r.status}`);
  return WebAssembly.compile(await r.arrayBuffer());
}

/** What a program in a page may set besides its module and arguments (process.ts PosixProcessOptions). */
export type BrowserPosixOptions = Pick<PosixProcessOptions, 'capture' | 'output' | 'env' | 'endOnWorkerDeath' | 'wasiData'> & {
  /** The job module of its threads: a VM's own WASI in a page (default: browser-job.js, no files). */
  job?: URL;
};

const programs = new Map<string, Promise<WebAssembly.Module>>();

/** Runs the program at `programUrl` with `args` (argv[0] first) in this page; `status` settles with its exit status. */
export async function startBrowserPosixProcess(programUrl: URL, args: string[], opts: BrowserPosixOptions = {}): Promise<PosixProcess> {
  core ??= compile(new URL('core.wasm', BUILD));
  // a page that runs one program again (python.html) compiles it once
  if (!programs.has(programUrl.href)) programs.set(programUrl.href, compile(programUrl));
  const program = programs.get(programUrl.href)!;
  program.catch(() => programs.delete(programUrl.href));
  return startPosixProcess({
    core: await core, program: await program, args, capture: opts.capture, output: opts.output, env: opts.env, wasiData: opts.wasiData,
    endOnWorkerDeath: opts.endOnWorkerDeath, createRuntime, job: opts.job ?? new URL('./browser-job.js', import.meta.url),
  });
}
