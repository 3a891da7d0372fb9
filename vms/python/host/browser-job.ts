// The job of every thread of CPython in a page (browser.ts): the pthread
// layer's thread job with the page's WASI, whose files are the page's
// (page-files.ts): the standard library served read-only at /usr, fetched
// with a synchronous request when a file is opened, the rest on the page's
// thread over a channel. Both waits block, so the thread runs them detached
// (as a read of stdin), and a stop-the-world never waits for them.
import type { ThreadContext } from '../../../host/worker.js';
import { browserWasiOptions } from '../../lua/host/browser-wasi.js';
import { detached, runPosixThreadJob } from '../../posix/host/thread-job.js';
import { pageFileSystem, type PageFilesData } from './page-files.js';
import type { PythonLibIndex } from './served-files.js';
import { sharedInputReader } from '../../wasi/shared-input.js';

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

export default (ctx: ThreadContext): Promise<number> => runPosixThreadJob(ctx, (args, wasiData) => {
  const data = wasiData as PageFilesData;
  return {
    ...browserWasiOptions(args),
    fs: pageFileSystem(data, index, fetchSync, (f) => detached(ctx, f)),
    // the page's text, one stream for every thread; without it, end of file
    ...(data.stdin ? { stdin: sharedInputReader(data.stdin) } : {}),
  };
});
