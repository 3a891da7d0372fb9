#!/usr/bin/env node
// wasm-threads-lua: the `lua` command (Lua's own lua.c) on build/lua.wasm and
// the core, under Node. `wasm-threads-lua script.lua [args]`, `-e`, `-l`,
// `-v`, `-`, exit status and error messages are lua.c's; lua.c's main runs on
// a worker like every Lua thread (the pthread layer's job, node-process.ts),
// this thread composes.
// Only light modules are imported up front: run as a command, the worker of
// lua.c's main starts first and boots while the host is imported
// (host/node/prestart.ts).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { LUA_LOOP, luaWasmPath } from './node-build.js';
import { POSIX_NODE_JOB } from '../../posix/host/node-job.js';
import { prestartWorker } from '../../../host/node/prestart.js';

/** Runs the command with `args` (argv[0] first) and resolves to its exit status. */
export async function main(args: string[]): Promise<number> {
  const luaWasm = luaWasmPath();
  if (!fs.existsSync(luaWasm)) {
    const { writeStdio } = await import('./node-wasi.js');
    writeStdio(2, new TextEncoder().encode(`${args[0]}: ${luaWasm} is missing: run \`npm run build:lua\`\n`));
    return 1;
  }
  const { startNodeLuaProcess } = await import('./node-process.js');
  return (await startNodeLuaProcess(args)).status;
}

if (isMainThread && process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  prestartWorker(POSIX_NODE_JOB);
  // before any compile: lua.c's interpreter loop never returns, so it is compiled by TurboFan up front (docs/LUA.md)
  const { applyEngineFlags, vmEngineUse } = await import('../../../host/node/engine.js');
  const wasm = luaWasmPath();
  applyEngineFlags(fs.existsSync(wasm) ? vmEngineUse(fs.readFileSync(wasm), LUA_LOOP) : 'vm');
  process.exitCode = await main(['lua', ...process.argv.slice(2)]);
}
