// Debian's Wasm toolchain as the VM builds use it (build-lua.mjs,
// build-python.mjs): clang-19, wasm-ld-19, wasi-libc, clang-rt's builtins, and
// the memory facts every VM module links with.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const CC = 'clang-19';
export const LD = 'wasm-ld-19';
export const WASI_LIB = '/usr/lib/wasm32-wasi';
export const WASI_INCLUDE = '/usr/include/wasm32-wasi';
export const CLANG_RT = '/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a';

/** The core's static data ends below this (build-c.sh's EMBED_GLOBAL_BASE, docs/EMBEDDING.md). */
export const GLOBAL_BASE = 0x20000;
/** The core's memory import is (memory 4 4096 shared): the same maximum links with every memory the core takes. */
export const MAX_MEMORY = 4096 * 65536;

export function have(cmd) {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Runs a command to completion; rejects with its last arguments and status when it fails. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.slice(-3).join(' ')}: exit ${code}`))));
  });
}

/** A sysroot under `dir` holding only wasi-libc, so the host's /usr/include never shadows it. */
export function sysroot(dir) {
  fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
  for (const [link, target] of [['include', WASI_INCLUDE], ['lib/wasm32-wasi', WASI_LIB]]) {
    const p = path.join(dir, link);
    try { fs.lstatSync(p); } catch { fs.symlinkSync(target, p); }
  }
  return dir;
}
