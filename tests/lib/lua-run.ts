// Running Lua scripts for the Lua tests: through the wasm-threads-lua command
// (build/lua.wasm on the core, vms/lua/host/cli.ts) and through Debian's
// native lua5.4, each in its own process under a deadline with the output
// captured byte for byte (latin1), both as `lua` (argv[0]) so that lua.c's
// messages ("lua: ...") match; or through the loader in this process
// (runLuaHere, one thread, no runtime).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCaptured, type CapturedRun, type RunOptions } from './captured-run.js';
import { IN_CI, ROOT, hasCommand } from './embed-tools.js';
import { compileLua, createLuaMemory, instantiateLua, runCommand, type LuaModules } from '../../vms/lua/host/loader.js';

export const LUA_WASM = path.join(ROOT, 'build', 'lua.wasm');
export const LUA_CLI = fileURLToPath(new URL('../../vms/lua/host/cli.js', import.meta.url));
/** The differential programs (tests/lua/*.lua), read from the source tree. */
export const LUA_PROGRAMS = path.join(ROOT, 'tests', 'lua');
export const NATIVE_LUA = 'lua5.4';

export type LuaRun = CapturedRun;

/** A run's options; its deadline defaults to 60 s. */
export type LuaRunOptions = RunOptions;

/**
 * Builds build/lua.wasm when it is missing; false when the toolchain is missing outside CI (the caller skips).
 * On CI a missing toolchain is a failure (.ci/run installs it).
 */
export function ensureLuaWasm(): boolean {
  if (fs.existsSync(LUA_WASM)) return true;
  if (!hasCommand('clang-19') && !IN_CI) return false;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-lua.mjs')], {
    cwd: ROOT, env: { ...process.env, NEED_LUA: '1' }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000,
  });
  return true;
}

/** Whether Debian's lua5.4 is installed (on CI it must be). */
export function hasNativeLua(): boolean {
  if (hasCommand(NATIVE_LUA)) return true;
  if (IN_CI) throw new Error(`${NATIVE_LUA} is missing (.ci/run installs it)`);
  return false;
}

function run(cmd: string, argv: string[], opts: LuaRunOptions, argv0?: string): Promise<LuaRun> {
  return runCaptured(cmd, argv, {
    argv0, cwd: opts.cwd, stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 60_000, env: { ...process.env, LUA_INIT: '', ...(opts.env ?? {}) },
  });
}

/** `lua args…` on build/lua.wasm: the wasm-threads-lua command. */
export function runLua(args: string[], opts: LuaRunOptions = {}): Promise<LuaRun> {
  return run(process.execPath, [LUA_CLI, ...args], opts);
}

/** `lua args…` on Debian's native lua5.4. */
export function runNativeLua(args: string[], opts: LuaRunOptions = {}): Promise<LuaRun> {
  return run(NATIVE_LUA, args, opts, 'lua');
}

let modules: LuaModules | undefined;

/**
 * `lua args…` on build/lua.wasm in THIS process, on this thread (no runtime, no workers, no threads): output
 * captured, `root` (when given) preopened as "/" with node:fs, stdin from a string. The caller sets --no-liftoff.
 */
export async function runLuaHere(args: string[], opts: { root?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  modules ??= await compileLua(fs.readFileSync(path.join(ROOT, 'build', 'core.wasm')), fs.readFileSync(LUA_WASM));
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  let input = Buffer.from(opts.stdin ?? '');
  const thread = await instantiateLua(modules, createLuaMemory(), {
    wasi: {
      args: ['lua', ...args], env: opts.env ?? {}, stdout: (b) => out.push(b), stderr: (b) => err.push(b),
      stdin: (buf) => { const n = Math.min(buf.length, input.length); buf.set(input.subarray(0, n)); input = input.subarray(n); return n; },
      ...(opts.root ? { preopens: { '/': opts.root }, fs } : {}),
    },
  });
  const { status } = runCommand(thread, (b) => err.push(b));
  return { status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
