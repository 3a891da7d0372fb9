// The job of every thread of CPython in a page (browser.ts): the pthread
// layer's thread job with the page's WASI, whose file system is the standard
// library served read-only at /usr (served-files.ts). Opening a file fetches
// it with a synchronous request, during which the thread runs detached (a
// blocking wait, like a read of stdin), so a stop-the-world never waits for
// the network.
import type { ThreadContext } from '../../../host/worker.js';
import { browserWasiOptions } from '../../lua/host/browser-wasi.js';
import { detached, runPosixThreadJob } from '../../posix/host/thread-job.js';
import { PAGE_PREFIX, ServedFiles, type PythonLibIndex } from './served-files.js';

const BUILD = new URL('../../../../build/', import.meta.url);
const LIB = new URL('python-lib/', BUILD);

// Once per worker, when the worker imports this module: before its thread registers, so the wait holds up nothing.
const response = await fetch(new URL('python-lib.json', BUILD));
if (!response.ok) throw new Error(`build/python-lib.json: HTTP ${response.status} (node scripts/python-lib-index.mjs writes it)`);
const index = (await response.json()) as PythonLibIndex;

/** A file of the tree by its path relative to build/python-lib/. A worker may block; a page's own thread may not. */
function fetchSync(rel: string): Uint8Array {
  const url = new URL(rel.split('/').map(encodeURIComponent).join('/'), LIB);
  const xhr = new XMLHttpRequest();
  xhr.open('GET', url, false);
  xhr.responseType = 'arraybuffer';
  xhr.send();
  if (xhr.status !== 200) throw Object.assign(new Error(`${url.href}: HTTP ${xhr.status}`), { code: 'EIO' });
  return new Uint8Array(xhr.response as ArrayBuffer);
}

export default (ctx: ThreadContext): Promise<number> => runPosixThreadJob(ctx, (args) => ({
  ...browserWasiOptions(args),
  fs: new ServedFiles(index, PAGE_PREFIX, (rel) => detached(ctx, () => fetchSync(rel))),
}));
