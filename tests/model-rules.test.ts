// Model checking of three rules the code must keep: the re-attach flag
// (assembly/model/reattach.pml), the seqlock writer-word rule
// (assembly/model/seqlock.pml) and the GIL's hand-off under stops with the
// stop hooks (assembly/model/gilstop.pml). Each holds exhaustively, and its
// seeded bugs, the defects it guards against, are rejected. Seconds each
// (docs/MODEL.md).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SAFETY, SAFETY_BUG, verify, holds, rejected } from './lib/model-checker.js';
import { within } from './lib/helpers.js';

test('re-attach flag: cleared on every successful attach, a stop backs off only for a thread on its way back (exhaustive)', () =>
  within(30_000, async () => {
    holds('reattach', await verify({ model: 'reattach.pml', cflags: SAFETY, deadlineMs: 25_000 }));
  }));

test('seeded bug R (attach\'s fast path leaves the re-attach flag set) is rejected', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'reattach.pml', defines: ['BUG_R'], cflags: SAFETY_BUG, deadlineMs: 25_000 });
    rejected('reattach BUG_R', v, 'assertion violated');
  }));

test('seeded bug R is rejected by the back-off check alone: a stop waits out its bound for a thread not re-attaching', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'reattach.pml', defines: ['BUG_R', 'NO_FLAG_MONITOR'], cflags: SAFETY_BUG, deadlineMs: 25_000 });
    rejected('reattach BUG_R back-off', v, 'assertion violated');
    assert.match(v.output, /assertion violated inAttach/, 'the back-off check caught it');
  }));

test('seqlock writer word: E_BUSY only from a writer that died inside its write (exhaustive)', () =>
  within(30_000, async () => {
    holds('seqlock', await verify({ model: 'seqlock.pml', cflags: SAFETY, deadlineMs: 25_000 }));
  }));

test('seeded bug S (a writer judged from a slot seen before, the word not re-read) is rejected', () =>
  within(30_000, async () => {
    const v = await verify({ model: 'seqlock.pml', defines: ['BUG_S', 'NODEATH'], cflags: SAFETY_BUG, deadlineMs: 25_000 });
    rejected('seqlock BUG_S', v, 'assertion violated');
    assert.match(v.output, /c==diedIn/, 'a live or finished writer was judged dead');
  }));

test('GIL under stops: no thread waits for a taker or a wake that never comes, alone or with a waiter (exhaustive)', () =>
  within(60_000, async () => {
    holds('gilstop', await verify({ model: 'gilstop.pml', cflags: SAFETY, deadlineMs: 25_000 }));
    holds('gilstop waiter', await verify({ model: 'gilstop.pml', defines: ['WAITER', 'NSTOPS=1', 'ROUNDS=1', 'MAXPASS=2'], cflags: SAFETY, deadlineMs: 30_000 }));
  }));

for (const [bug, what] of [
  ['BUG_BOOL', 'the guard\'s word a flag cleared by a skip'],
  ['BUG_NOWAKE', 'no wake at a stop\'s end'],
  ['BUG_NOGUARD', 'no guard'],
  ['BUG_ORDER', 'the guard reads the request before the sequence'],
  ['BUG_SIGNALLED', 'a wake only after a stop that signalled'],
] as const) {
  test(`seeded GIL bug ${bug} (${what}) is rejected: a thread waits forever`, () =>
    within(30_000, async () => {
      const v = await verify({ model: 'gilstop.pml', defines: [bug], cflags: SAFETY_BUG, deadlineMs: 25_000 });
      rejected(`gilstop ${bug}`, v, 'invalid end state');
    }));
}

test.run();
