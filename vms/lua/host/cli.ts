#!/usr/bin/env node
// wasm-threads-lua: the `lua` command (Lua's own lua.c) on build/lua.wasm and
// the core, under Node. `wasm-threads-lua script.lua [args]`, `-e`, `-l`,
// `-v`, `-`, exit status and error messages are lua.c's; lua.c's main runs on
// a worker like every Lua thread (threads.ts), this thread composes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { createRuntime } from '../../../host/node/index.js';
import { compileLua, instantiateLua } from './loader.js';
import { nodeWasiOptions, writeStdio } from './node-wasi.js';
import { startLuaProcess, threadImports } from './threads.js';

export { nodeWasiOptions } from './node-wasi.js';

/** The package root: dist/vms/lua/host/cli.js is four levels below it. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Runs the command with `args` (argv[0] first) and resolves to its exit status. */
export async function main(args: string[]): Promise<number> {
  const build = path.join(PACKAGE_ROOT, 'build');
  const luaWasm = path.join(build, 'lua.wasm');
  if (!fs.existsSync(luaWasm)) {
    writeStdio(2, new TextEncoder().encode(`${args[0]}: ${luaWasm} is missing: run \`npm run build:lua\`\n`));
    return 1;
  }
  const modules = await compileLua(fs.readFileSync(path.join(build, 'core.wasm')), fs.readFileSync(luaWasm));
  const proc = await startLuaProcess({
    modules,
    args,
    createRuntime,
    // lua.wasm on this thread serves only lwtc_area_new and lwtc_interrupt: it runs no Lua and starts no thread.
    instantiateHost: (memory) => instantiateLua(modules, memory, {
      placement: { kind: 'main' }, wasi: nodeWasiOptions(args),
      imports: { env: threadImports(memory, { modules, args, exitCell: new SharedArrayBuffer(4) }, () => { throw new Error('the host thread runs no Lua'); }) },
    }),
  });
  return proc.status;
}

if (isMainThread && process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // V8 11.3's Liftoff miscompiles a load after memory.atomic.wait32 (docs/EMBEDDING.md): before any compile.
  v8.setFlagsFromString('--no-liftoff');
  process.exitCode = await main(['lua', ...process.argv.slice(2)]);
}
