#!/usr/bin/env node
// wasm-threads-lua: the `lua` command (Lua's own lua.c) on build/lua.wasm and
// the core, under Node. `wasm-threads-lua script.lua [args]`, `-e`, `-l`,
// `-v`, `-`, exit status and error messages are lua.c's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { compileLua, createLuaMemory, instantiateLua, runCommand } from './loader.js';
import type { WasiOptions } from './wasi.js';

// V8 11.3's Liftoff miscompiles a load after memory.atomic.wait32 (docs/EMBEDDING.md): set before any compile.
v8.setFlagsFromString('--no-liftoff');

/** The package root: dist/vms/lua/host/cli.js is four levels below it. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

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

/** The WASI options of the command: the host's stdio, environment and file system, the working directory as $PWD. */
export function nodeWasiOptions(args: string[]): WasiOptions {
  return {
    args,
    env: { ...process.env, PWD: process.cwd() } as Record<string, string>,
    stdout: (b) => writeAll(1, b),
    stderr: (b) => writeAll(2, b),
    stdin: readStdin,
    isatty: (fd) => { try { return fs.fstatSync(fd).isCharacterDevice() && os.platform() !== 'win32'; } catch { return false; } },
    preopens: { '/': '/' },
    fs,
    cpuTimeNs: () => { const u = process.cpuUsage(); return BigInt(u.user + u.system) * 1000n; },
  };
}

/** Runs the command with `args` (argv[0] first) and resolves to its exit status. */
export async function main(args: string[]): Promise<number> {
  const build = path.join(PACKAGE_ROOT, 'build');
  const luaWasm = path.join(build, 'lua.wasm');
  if (!fs.existsSync(luaWasm)) {
    process.stderr.write(`${args[0]}: ${luaWasm} is missing: run \`npm run build:lua\`\n`);
    return 1;
  }
  const modules = await compileLua(fs.readFileSync(path.join(build, 'core.wasm')), fs.readFileSync(luaWasm));
  const memory = createLuaMemory();
  const thread = await instantiateLua(modules, memory, { placement: { kind: 'main' }, wasi: nodeWasiOptions(args) });
  return runCommand(thread, (b) => writeAll(2, b)).status;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(['lua', ...process.argv.slice(2)]);
}
