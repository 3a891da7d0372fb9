// Model checking, the short checks beside tests/model.test.ts, whose
// exhaustive stop-the-world search takes most of a file's deadline: each seeded
// bug of the stop (assembly/model/stw.pml) is rejected, which shows its
// properties can fail, and the robust lock (locks.pml) holds every property
// exhaustively and rejects its seeded bugs. Needs spin and gcc (.ci/run
// installs spin).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SAFETY, SAFETY_BUG, STW, verify, holds, rejected } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

test('seeded bug A (start resumes before clearing the request) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_A'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('stw BUG_A', v, 'invalid end state');
  }));

test('seeded bug B (a blind store in detach) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_B'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('stw BUG_B', v, 'assertion violated');
    assert.match(v.output, /ALLOWED|slot\[i\]/, 'the mover table caught it');
  }));

test('seeded bug C (the epoch read after the pass) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_C'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('stw BUG_C', v, 'assertion violated');
    assert.match(v.output, /settled/, 'the lost wake-up check caught it');
  }));

test('seeded bug E (start clears the request before the stopped flag) is rejected', () =>
  within(120_000, async () => {
    const v = await verify({ model: 'stw.pml', defines: [...STW, 'BUG_E'], cflags: SAFETY_BUG, deadlineMs: 110_000 });
    rejected('stw BUG_E', v, 'assertion violated');
  }));

test('robust lock: every property holds (exhaustive)', () =>
  within(60_000, async () => {
    holds('locks', await verify({ model: 'locks.pml', cflags: SAFETY, deadlineMs: 50_000 }));
  }));

test('seeded bug D (mark_dead does not notify the lock word) is rejected', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'locks.pml', defines: ['BUG_D'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('locks BUG_D', v, 'invalid end state');
  }));

test('a mark_dead that only wakes the word without changing it loses a wake-up', () =>
  within(60_000, async () => {
    const v = await verify({ model: 'locks.pml', defines: ['NOTIFY_ONLY'], cflags: SAFETY_BUG, deadlineMs: 50_000 });
    rejected('locks NOTIFY_ONLY', v, 'invalid end state');
  }));

test.run();
