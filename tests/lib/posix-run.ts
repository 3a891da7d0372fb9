// The pthread layer's C test programs (tests/posix/*.c): linked on demand by
// scripts/posix-layer.mjs into build/posix-tests/, run as processes on the
// runtime with their output captured.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IN_CI, ROOT, hasCommand } from './embed-tools.js';
import { startNodePosixProcess, type NodePosixProcessOptions } from '../../vms/posix/host/node-process.js';
import { captureText, newCapture } from '../../vms/posix/host/capture.js';
import type { PosixProcess } from '../../vms/posix/host/process.js';

const OUT = path.join(ROOT, 'build', 'posix-tests');

/**
 * Builds tests/posix/<name>.c (with the layer, and wasi-libc rebuilt on first use); undefined when the toolchain is
 * missing outside CI (the caller skips). On CI a missing toolchain is a failure.
 */
export function posixProgram(name: string): string | undefined {
  if (!hasCommand('clang-19') && !IN_CI) return undefined;
  fs.mkdirSync(OUT, { recursive: true });
  const out = path.join(OUT, `${name}.wasm`);
  const inputs = [path.join(ROOT, 'tests', 'posix', `${name}.c`), path.join(ROOT, 'tests', 'posix', 'check.h'),
    ...['src', 'include'].flatMap((d) => fs.readdirSync(path.join(ROOT, 'vms/posix', d)).map((f) => path.join(ROOT, 'vms/posix', d, f)))];
  if (fs.existsSync(out) && inputs.every((f) => fs.statSync(f).mtimeMs < fs.statSync(out).mtimeMs)) return out;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'posix-layer.mjs'), '-o', out, path.join(ROOT, 'tests', 'posix', `${name}.c`)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000,
  });
  return out;
}

/** tests/posix/<name>.c built, then through the fork build step (scripts/asyncify-fork.mjs): fork() from any depth. */
export async function posixForkProgram(name: string): Promise<string | undefined> {
  const plain = posixProgram(name);
  if (!plain) return undefined;
  const out = plain.replace(/\.wasm$/, '-fork.wasm');
  if (fs.existsSync(out) && fs.statSync(plain).mtimeMs < fs.statSync(out).mtimeMs) return out;
  const { asyncifyForFork } = await import(pathToFileURL(path.join(ROOT, 'scripts', 'asyncify-fork.mjs')).href) as {
    asyncifyForFork(o: { input: string; output: string; imports: string[] }): unknown;
  };
  asyncifyForFork({ input: plain, output: out, imports: ['wtp_fork.fork_here'] });
  return out;
}

export interface PosixRun { status: number; out: string }

/** Runs a built program to its exit; `during` may drive the host while it runs. */
export async function runPosix(wasm: string, args: string[] = [], during?: (p: PosixProcess, capture: SharedArrayBuffer) => Promise<void>,
  opts: Omit<NodePosixProcessOptions, 'capture'> = {}): Promise<PosixRun> {
  const capture = newCapture(4 << 20);
  const p = await startNodePosixProcess(wasm, [path.basename(wasm, '.wasm'), ...args], { ...opts, capture });
  if (during) await during(p, capture);
  const status = await p.status;
  return { status, out: captureText(capture) };
}
