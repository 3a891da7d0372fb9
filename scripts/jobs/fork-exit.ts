// Fork continuation for benchmarks: the child exits at once with status 0.
export default function exitAtOnce(): number {
  return 0;
}
// Nothing of a child outlives it: its carrier may serve the next (docs/FORK.md, "Recycled children").
export function recycle(): void {}
