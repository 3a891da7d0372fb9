// What one live forked child costs in memory, per isolation, so the process
// table's size (PROC_ENTRIES children) can be judged against it: 'process'
// children are OS processes (their RSS and PSS — shared pages split among the
// processes that map them — from /proc/N/smaps_rollup); 'thread' children are
// worker groups in this process (the growth of this process's RSS per child).
// Every child is alive (its continuation waits for a release) when measured.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../host/node/index.js';
import { PROC_ENTRIES } from '../host/fork/protocol.js';
import { round } from './stats-util.js';

const HOLD = new URL('./jobs/fork-hold.js', import.meta.url);

interface Opts { quick: boolean; log: (s: string) => void }

/** kB fields of a /proc file (VmRSS, Rss, Pss, …). */
function kb(file: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`bench: no ${field} in ${file}`);
  return Number(m[1]);
}
const mib = (kib: number) => round(kib / 1024, 1);

async function row(o: Opts, isolation: 'process' | 'thread', n: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'fork-memory-'));
  const release = join(dir, 'release');
  // pool 0: every child measured is a forked one, none waits warm in a pool
  const rt = await createRuntime({ capacity: 8, fork: { continuation: HOLD, pool: 0, isolation } });
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const before = kb('/proc/self/status', 'VmRSS');
    const pids: number[] = [];
    for (let i = 0; i < n; i++) pids.push((await rt.forkAsync({ data: { release } })).pid);
    // every child is past its acknowledgement and idle in its continuation
    await new Promise((r) => setTimeout(r, 500));
    (globalThis as { gc?: () => void }).gc?.();
    const out: Record<string, unknown> = { isolation, children: n, wasm_memory_mib: rt.memory.buffer.byteLength / 1048576 };
    let perChild: number;
    if (isolation === 'process') {
      const rss = pids.map((p) => kb(`/proc/${p}/smaps_rollup`, 'Rss'));
      const pss = pids.map((p) => kb(`/proc/${p}/smaps_rollup`, 'Pss'));
      out.rss_mib_per_child = mib(rss.reduce((a, b) => a + b, 0) / n);
      perChild = pss.reduce((a, b) => a + b, 0) / n;
      out.pss_mib_per_child = mib(perChild);
    } else {
      perChild = (kb('/proc/self/status', 'VmRSS') - before) / n;
      out.rss_mib_per_child = mib(perChild);
    }
    out.full_table_gib = round((perChild * PROC_ENTRIES) / 1048576, 2);
    writeFileSync(release, '');
    for (const p of pids) await rt.waitpidAsync(p);
    o.log(`fork memory ${isolation}: ${mib(perChild)} MiB per live child, ${out.full_table_gib} GiB for ${PROC_ENTRIES}`);
    return out;
  } finally {
    writeFileSync(release, '');
    await rt.close({ children: 'kill' });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One row per isolation: MiB per live child and what a full table of them would take. */
export async function forkChildMemory(o: Opts): Promise<Record<string, unknown>[]> {
  const n = o.quick ? 4 : 8;
  return [await row(o, 'process', n), await row(o, 'thread', n)];
}
