// A pthread-layer program in a browser page: build/core.wasm and the
// program's module fetched and compiled, the page's runtime (host/browser),
// main() and every thread a worker job (browser-job.ts). The page's main
// thread never runs the program and never blocks. No fork in a page yet
// (wtp_fork fails with ENOSYS).
import { createRuntime } from '../../../host/browser/index.js';
import { startPosixProcess, type PosixProcess } from './process.js';

const BUILD = new URL('../../../../build/', import.meta.url);
let core: Promise<WebAssembly.Module> | undefined;

async function compile(url: URL): Promise<WebAssembly.Module> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.href}: HTTP ${r.status}`);
  return WebAssembly.compile(await r.arrayBuffer());
}

/** Runs the program at `programUrl` with `args` (argv[0] first) in this page; `status` settles with its exit status. */
export async function startBrowserPosixProcess(programUrl: URL, args: string[], opts: { capture?: SharedArrayBuffer } = {}): Promise<PosixProcess> {
  core ??= compile(new URL('core.wasm', BUILD));
  return startPosixProcess({
    core: await core, program: await compile(programUrl), args, capture: opts.capture, createRuntime,
    job: new URL('./browser-job.js', import.meta.url),
  });
}
