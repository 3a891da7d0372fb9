// The files of Python in a page: the standard library read-only at /usr
// (served-files.ts: fetched from the server as it is opened), and everything
// else — /tmp, the home directory /home/user (the working directory), any
// file a program makes — in memory on the page's own thread (memory-fs.ts),
// one tree for every thread of the process, reached over a channel
// (fs-channel.ts). The page starts the tree with the process and may read
// what the program wrote; it is gone with the page.
import { MemoryFs } from '../../wasi/memory-fs.js';
import { MountedFs } from '../../wasi/mounted-fs.js';
import { RemoteFs, newFsChannel, serveFs } from '../../wasi/fs-channel.js';
import { InvalidArgumentError } from '../../../host/errors.js';
import { ServedFiles, type PythonLibIndex } from './served-files.js';

/**
 * Where a page mounts the standard library's tree: the command is /usr/bin/python3.11, so CPython's getpath finds
 * its prefix (/usr) and the library at /usr/lib/python3.11, as on Debian.
 */
export const PAGE_PREFIX = '/usr';
export const PAGE_EXECUTABLE = `${PAGE_PREFIX}/bin/python3.11`;
/** $HOME and the working directory. */
export const PAGE_HOME = '/home/user';
const PAGE_DIRS = ['/tmp', '/home', PAGE_HOME];

/** What every thread's job gets from the page (PosixProcessOptions.wasiData): its files' channel, its stdin. */
export interface PageFilesData { channel: SharedArrayBuffer; stdin?: SharedArrayBuffer }

/** The page's side: the tree in memory, served on a channel until stop(). */
export interface PageFiles {
  /** The tree (readFileSync: what the program wrote). */
  memory: MemoryFs;
  data: PageFilesData;
  stop(): void;
}

/** Starts the tree with `files` (absolute path → contents; their directories are made) in it. */
export function startPageFiles(files: Record<string, string | Uint8Array> = {}): PageFiles {
  const memory = new MemoryFs(PAGE_DIRS);
  for (const [path, contents] of Object.entries(files)) {
    if (!path.startsWith('/') || path === PAGE_PREFIX || path.startsWith(`${PAGE_PREFIX}/`)) {
      throw new InvalidArgumentError(`a page's file is an absolute path outside ${PAGE_PREFIX}, got ${JSON.stringify(path)}`);
    }
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      try { memory.mkdirSync(dir); } catch (e) { if ((e as { code?: string }).code !== 'EEXIST') throw e; }
    }
    const bytes = typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
    const fd = memory.openSync(path, memory.constants.O_WRONLY | memory.constants.O_CREAT | memory.constants.O_TRUNC);
    memory.writeSync(fd, bytes, 0, bytes.length, 0);
    memory.closeSync(fd);
  }
  const channel = newFsChannel();
  const server = serveFs(channel, memory);
  return { memory, data: { channel }, stop: () => server.stop() };
}

/**
 * A thread's view (in its job): the library at /usr from `index` and `fetch`, the rest over the page's channel;
 * `blocking` runs each wait (a thread runs them detached).
 */
export function pageFileSystem(data: PageFilesData, index: PythonLibIndex, fetch: (rel: string) => Uint8Array,
  blocking: <T>(f: () => T) => T): MountedFs {
  return new MountedFs({
    '/': new RemoteFs(data.channel, blocking),
    [PAGE_PREFIX]: new ServedFiles(index, PAGE_PREFIX, (rel) => blocking(() => fetch(rel))),
  });
}
