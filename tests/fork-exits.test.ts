// How children end, in the process table (host/fork/exits.ts): the first
// child to exit among several, a signal in the status word, kill requests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CTL_KILL, controlWords, createControl, procClaim, procExited, procReap } from '../host/fork/protocol.js';
import {
  SIGKILL, SIGTERM, exitCodeOf, exitCount, killDone, pendingKill, postKill, procFirstExited, signaled, waitStatusOf,
} from '../host/fork/exits.js';

const block = () => controlWords(createControl(4));

test('the first child to exit is found first, whatever its slot; none exited: the count of running children', () => {
  const ctl = block();
  for (const pid of [11, 12, 13]) procClaim(ctl, pid);
  assert.equal(procFirstExited(ctl), { entry: undefined, children: 3 });
  const seen = exitCount(ctl);
  procExited(ctl, 13, 3);
  procExited(ctl, 11, 1);
  assert.is(exitCount(ctl), seen + 2);
  const first = procFirstExited(ctl);
  assert.is(first.entry?.pid, 13);
  assert.is(first.children, 3);
  assert.is(procReap(ctl, first.entry!), 3);
  assert.is(procFirstExited(ctl).entry?.pid, 11);
  assert.is(procReap(ctl, procFirstExited(ctl).entry!), 1);
  assert.equal(procFirstExited(ctl), { entry: undefined, children: 1 });
});

test('a status word tells a signal from an exit with 128 + n, and encodes both as Linux does', () => {
  assert.is(exitCodeOf(signaled(SIGTERM)), 143);
  assert.is(waitStatusOf(signaled(SIGTERM)), 15);
  assert.is(exitCodeOf(143), 143);
  assert.is(waitStatusOf(143), 143 << 8);
  assert.is(waitStatusOf(signaled(SIGKILL)), 9);
  assert.is(waitStatusOf(0), 0);
});

test('one kill request at a time: posted, seen by the server, done', () => {
  const ctl = block();
  const word = postKill(ctl, 4_000_000, SIGKILL);
  assert.ok(word !== 0);
  assert.is(postKill(ctl, 12, SIGTERM), 0, 'a second request waits');
  assert.equal(pendingKill(ctl), { pid: 4_000_000, signal: SIGKILL });
  killDone(ctl);
  assert.is(Atomics.load(ctl, CTL_KILL), 0);
  assert.is(pendingKill(ctl), undefined);
  assert.ok(postKill(ctl, 12, SIGTERM) !== 0);
});

test.run();
