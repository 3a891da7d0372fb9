// Locating the external tools the embedding tests need (clang for the C
// example, js102 for SpiderMonkey) and building the C example. On a CI
// machine a missing tool is a failure (.ci/run installs them); elsewhere the
// tests that need it are skipped.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const IN_CI = !!process.env.CI;

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export const hasClang = (): boolean => ['clang', 'clang-14', 'clang-15', 'clang-16', 'clang-17', 'clang-18'].some(hasCommand);

/** Builds build/c-embedder.wasm and build/c-embedder.pie.wasm; false when clang is missing outside CI. */
export function buildCEmbedder(): boolean {
  if (!hasClang() && !IN_CI) return false;
  execFileSync('bash', [`${ROOT}scripts/build-c.sh`], {
    cwd: ROOT, env: { ...process.env, NEED_CLANG: '1' }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000,
  });
  return true;
}

/** The documented lowest --global-base for a fixed-address embedder (scripts/build-c.sh, docs/EMBEDDING.md). */
export const EMBED_GLOBAL_BASE = 0x20000;
