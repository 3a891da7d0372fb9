// A short run of the stress harness (npm start) passes its own invariants and
// reports the documented fields, as JSON and as an HTML page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { within } from './lib/helpers.js';

const HARNESS = fileURLToPath(new URL('../scripts/harness.js', import.meta.url));
const FIELDS = [
  'threads', 'seconds', 'forks', 'worker_forks', 'forks_per_s', 'cold_forks', 'fork_p50_ms', 'fork_p90_ms', 'fork_p99_ms',
  'fork_pause_p50_ms', 'fork_pause_p99_ms', 'fork_breakdown_ms', 'world_running_pct', 'stw_stops', 'stw_timeouts',
  'stw_p50_us', 'stw_p99_us', 'stw_max_us', 'cache_hit_rate', 'counter', 'torn_reads', 'lost_updates', 'failed_children',
  'hangs', 'ok', 'violations',
];

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HARNESS, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('a short harness run holds every invariant and reports the documented fields', () =>
  within(150_000, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'harness-'));
    try {
      const report = join(dir, 'report.html');
      const r = await run(['--duration', '4', '--forks', '8', '--warmup', '1', '--threads', '2', '--json', '--report', report, '--compare-cpython']);
      assert.is(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
      for (const f of FIELDS) assert.ok(f in s, `field ${f}`);
      assert.is(s.ok, true, JSON.stringify(s.violations));
      assert.ok(s.forks >= 1);
      assert.is(s.torn_reads, 0);
      assert.is(s.lost_updates, 0);
      assert.is(s.failed_children, 0);
      assert.is(s.hangs, 0);
      assert.ok(s.counter > 0, 'the interpreter threads ran');
      assert.ok(s.cache_hit_rate > 0.5, `cache hit rate ${s.cache_hit_rate}`);
      assert.ok(Number.isInteger(s.cold_forks) && s.cold_forks >= 0, `cold_forks ${s.cold_forks}`);
      for (const part of ['stop', 'copy', 'checksum_seal', 'child_wait', 'transfer', 'child_read_verify', 'child_restore_start', 'ack', 'handoff', 'exit_waitpid']) {
        assert.type(s.fork_breakdown_ms[part], 'number', `breakdown ${part}`);
      }
      assert.ok(s.fork_breakdown_ms.handoff > 0, 'the hand-off took time');
      assert.ok(s.cpython.p50_ms > 0 && s.cpython.samples_ms.length === s.cpython.n, JSON.stringify(s.cpython));
      assert.ok(s.fork_p50_vs_cpython > 0);
      const html = readFileSync(report, 'utf8');
      assert.match(html, /<svg/);
      assert.match(html, /Fork round trip over the run/);
      assert.not.match(html, /<script/, 'the report is self-contained');
      // the histogram names its counts, and they add up to the measured forks drawn over the run
      const counted = [...html.matchAll(/<title>this run [^:]*: (\d+)<\/title>/g)].reduce((n, m) => n + Number(m[1]), 0);
      const dots = (html.match(/<circle [^>]*><title>[\d.]+ s: /g) ?? []).length;
      assert.ok(counted > 0, 'the fork histogram counts forks');
      assert.is(counted, dots, 'every measured fork is in the histogram and over time');
      assert.match(html, /CPython p50/, 'CPython\'s forks are drawn beside ours');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));

// Each loop forks again as soon as it has reaped its child, while that child's carrier is still recycling: the pool
// the workload asks for before its first fork must hold a ready child for every fork of both loops from the first.
test('the main thread and a forking worker find a warm child from their first fork on: no fork waits', () =>
  within(150_000, async () => {
    const r = await run(['--duration', '20', '--forks', '40', '--warmup', '1', '--worker-forkers', '1', '--json']);
    assert.is(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.is(s.ok, true, JSON.stringify(s.violations));
    assert.ok(s.worker_forks > 0, 'the worker forked too');
    assert.is(s.forks_waited, 0, `${s.forks_waited} of ${s.forks} forks waited for their child`);
    assert.is(s.cold_forks, 0);
  }));

test('bad flags are refused with a clear message', () =>
  within(30_000, async () => {
    const r = await run(['--threads', 'many']);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, /--threads needs a number/);
    const r2 = await run(['--bogus']);
    assert.match(r2.stderr, /unknown option: --bogus/);
  }));

test.run();
