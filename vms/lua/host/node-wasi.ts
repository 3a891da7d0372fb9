// The WASI options of a Lua process under Node (any thread of it): the host's
// stdio, environment and file system, the working directory passed as $PWD
// (main.c chdirs there: wasi-libc resolves relative paths itself).
import fs from 'node:fs';
import type { WasiOptions } from '../../wasi/wasi.js';

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

function readStdin(buffer: Uint8Array): number {
  for (;;) {
    try {
      return fs.readSync(0, buffer, 0, buffer.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') return 0;
      if (code !== 'EAGAIN') throw e;
    }
  }
}

/** Writes all of `bytes` to host fd 1 or 2. */
export const writeStdio = writeAll;

// Read once per worker: copying process.env costs ~0.4 ms, and a pooled worker starts one Lua thread after another.
let environment: Record<string, string> | undefined;

export function nodeWasiOptions(args: string[]): WasiOptions {
  environment ??= { ...process.env, PWD: process.cwd() } as Record<string, string>;
  return {
    args,
    env: environment,
    stdout: (b) => writeAll(1, b),
    stderr: (b) => writeAll(2, b),
    stdin: readStdin,
    isatty: (fd) => { try { return fs.fstatSync(fd).isCharacterDevice(); } catch { return false; } },
    // The whole file system, as the native command has: absolute paths resolve against '/', relative ones against $PWD.
    preopens: { '/': '/' },
    fs,
    cpuTimeNs: () => { const u = process.cpuUsage(); return BigInt(u.user + u.system) * 1000n; },
    monotonicNs: () => process.hrtime.bigint(),
  };
}
