// The pthread layer's programs the page suite runs (build/posix-tests/<name>.wasm, built from tests/posix/<name>.c
// by the Node side first) and the steps each prints; no browser dependency, so the Node side reads it too.
export const POSIX_BROWSER_CASES: { name: string; steps: string[] }[] = [
  { name: 'locks', steps: ['normal', 'errorcheck', 'recursive', 'contention', 'cond-timeout', 'cond-wake', 'rwlock', 'semaphore'] },
  { name: 'stop', steps: ['blocked', 'stopped', 'resumed'] },
];
