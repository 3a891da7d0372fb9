// Where a fork's round trip goes: reads the timeline that
// WASM_THREADS_FORK_TRACE=<file> makes every process and thread of a fork
// write (host/fork/trace.ts), groups its lines by fork and prints, per phase,
// when it came (median over the forks, from the forking thread's `fork`) and
// how long the step into it took (median and p90 of the gap to the phase
// before it in the round trip's order). Threads that fork at once are told
// apart by who wrote each line; the server's phases belong to the fork whose
// thread holds the control block (it serialises forks).
//
//   WASM_THREADS_FORK_TRACE=/tmp/t npx wasm-threads-lua loop.lua; node dist/scripts/fork-trace.js --file /tmp/t
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { arg, parseArgs } from './args.js';
import { percentile, round } from './stats-util.js';

/** The phases of a round trip in the order they follow one another (host/fork/trace.ts names them). */
export const PHASES = [
  'P fork', 'P claimed', 'P stopped', 'P copied', 'P started', 'P posted',
  'S taken', 'S child', 'S written', 'C go', 'C read', 'C restored', 'C adopted', 'C hooked', 'S acked', 'P returned',
  'C ran', 'C closed', 'C exit', 'S status', 'P reaped',
] as const;
export type Phase = (typeof PHASES)[number];

/** What each phase ends (docs/FORK.md, "Where the time goes"). */
export const PHASE_DOC: Record<Phase, string> = {
  'P fork': 'fork called',
  'P claimed': 'control block claimed (a ready server)',
  'P stopped': 'before-fork hooks, import lock, world stopped',
  'P copied': 'live pages found and copied into the staging area',
  'P started': 'world started, import lock released, after-in-parent hooks',
  'P posted': 'snapshot sealed (header, index, checksum) and the request posted',
  'S taken': 'the server woke and took the request',
  'S child': 'a ready child taken from the pool (or waited for)',
  'S written': 'the snapshot made readable by the child (its carrier\'s file)',
  'C go': 'the child woke with the hand-off',
  'C read': 'the live pages read into its memory',
  'C restored': 'the checksum verified, pages its instances dirtied zeroed',
  'C adopted': 'after_fork_child, the child\'s runtime made',
  'C hooked': 'the continuation\'s afterForkChild (Lua: lua.wasm placed and bound)',
  'S acked': 'the server woke with the acknowledgement',
  'P returned': 'the forking thread woke with the pid',
  'C ran': 'the continuation returned (the child\'s program ended)',
  'C closed': 'the child\'s runtime closed, its continuation\'s recycle ran',
  'C exit': 'the carrier checked what was left behind and sent the status',
  'S status': 'the server woke with the status and recorded it',
  'P reaped': 'waitpid woke and reaped it',
};

interface Fork { at: Partial<Record<Phase, number>>; pid?: number }

/** The forks of a trace, each with its phases' times (ms). */
export function forksOf(text: string): Fork[] {
  const lines = text.split('\n').filter(Boolean).map((l) => {
    const [t, who, side, phase, detail] = l.split(' ');
    return { t: Number(t), who, name: `${side} ${phase}` as Phase, detail };
  }).sort((a, b) => a.t - b.t);
  const forks: Fork[] = [];
  // the fork whose thread holds the control block: the server's phases until the pid are that fork's
  let current: Fork | undefined;
  // each forking thread's fork in flight (threads forking at once each wait for the block in turn)
  const byThread = new Map<string, Fork>();
  const byCarrier = new Map<string, Fork>();
  const byPid = new Map<number, Fork>();
  const set = (f: Fork | undefined, name: Phase, t: number) => { if (f && f.at[name] === undefined) f.at[name] = t; };
  for (const { t, who, name, detail } of lines) {
    const side = name[0];
    if (name === 'P fork') {
      const f: Fork = { at: { 'P fork': t } };
      forks.push(f);
      byThread.set(who, f);
    } else if (name === 'P claimed') set((current = byThread.get(who)), name, t);
    else if (side === 'P' && name !== 'P reaped') set(byThread.get(who), name, t);
    else if (name === 'C go') {
      const f = byPid.get(Number(detail));
      byCarrier.set(who, f!);
      set(f, name, t);
    } else if (side === 'C') set(byCarrier.get(who), name, t);
    else if (name === 'S status' || name === 'P reaped') set(byPid.get(Number(detail)), name, t);
    else if (name === 'S written' && current) {
      current.pid = Number(detail);
      byPid.set(current.pid, current);
      set(current, name, t);
    } else set(current, name, t);
  }
  return forks.filter((f) => PHASES.every((p) => f.at[p] !== undefined));
}

export interface PhaseFigures { phase: Phase; at_ms: number; step_p50_ms: number; step_p90_ms: number; what: string }

/** Per phase: its median time from `fork`, and the p50 and p90 of the step into it. */
export function breakdown(forks: Fork[]): { forks: number; round_trip_p50_ms: number; phases: PhaseFigures[] } {
  const q = (xs: number[], p: number) => round(percentile([...xs].sort((a, b) => a - b), p), 3);
  const phases = PHASES.map((phase, i) => ({
    phase,
    at_ms: q(forks.map((f) => f.at[phase]! - f.at['P fork']!), 50),
    step_p50_ms: i === 0 ? 0 : q(forks.map((f) => f.at[phase]! - f.at[PHASES[i - 1]]!), 50),
    step_p90_ms: i === 0 ? 0 : q(forks.map((f) => f.at[phase]! - f.at[PHASES[i - 1]]!), 90),
    what: PHASE_DOC[phase],
  }));
  return { forks: forks.length, round_trip_p50_ms: q(forks.map((f) => f.at['P reaped']! - f.at['P fork']!), 50), phases };
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2), {
    file: arg('', 'the timeline (WASM_THREADS_FORK_TRACE=FILE)'),
    json: arg(false, 'print the result as one line of JSON'),
    skip: arg(2, 'forks left out at the start (the first one waits for the fork server and its first child)'),
  }, 'node dist/scripts/fork-trace.js', 'where the round trips of a WASM_THREADS_FORK_TRACE timeline went, phase by phase');
  if (!args.file) throw new Error('fork-trace: --file names the timeline (--help)');
  const result = breakdown(forksOf(fs.readFileSync(args.file, 'utf8')).slice(args.skip));
  if (args.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(`${result.forks} forks, round trip p50 ${result.round_trip_p50_ms} ms\n`);
    process.stdout.write(`${'phase'.padEnd(12)} ${'at'.padStart(8)} ${'step p50'.padStart(9)} ${'p90'.padStart(8)}  what ends there\n`);
    for (const p of result.phases) {
      process.stdout.write(`${p.phase.padEnd(12)} ${p.at_ms.toFixed(3).padStart(8)} ${p.step_p50_ms.toFixed(3).padStart(9)} ${p.step_p90_ms.toFixed(3).padStart(8)}  ${p.what}\n`);
    }
  }
}
