// The fork control block's state machine (host/fork/protocol.ts), move by move.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CTL_OWNER, CTL_RESULT, CTL_SERVER, CTL_STATE, FORK_E_SERVER_DIED, PROC_EXITED, SERVER_GONE, ST_CLAIMED,
  ST_DONE, ST_IDLE, ST_REQUEST, ST_TAKEN, abandon, claim, controlWords, createControl, finish, post, procClaim, procExited, procFind,
  procReap, procRelease, procRunning, procState, readMessage, REAP_GONE, REAP_RUNNING, release, serverGone, take, takeOver,
} from '../host/fork/protocol.js';

const block = () => controlWords(createControl(4));
const state = (ctl: Int32Array) => Atomics.load(ctl, CTL_STATE);

test('one claim at a time; abandon and release give the block back', () => {
  const ctl = block();
  assert.ok(claim(ctl, 0x101));
  assert.is(Atomics.load(ctl, CTL_OWNER), 0x101);
  assert.not.ok(claim(ctl, 0x102), 'a second claimant waits');
  abandon(ctl);
  assert.is(state(ctl), ST_IDLE);
  assert.ok(claim(ctl, 0x102));
  post(ctl);
  assert.is(state(ctl), ST_REQUEST);
  assert.ok(take(ctl));
  assert.not.ok(take(ctl), 'taken once');
  assert.ok(finish(ctl, 1234, 'ok'));
  assert.is(state(ctl), ST_DONE);
  assert.is(Atomics.load(ctl, CTL_RESULT), 1234);
  release(ctl);
  assert.is(state(ctl), ST_IDLE);
  assert.is(Atomics.load(ctl, CTL_OWNER), 0);
});

test('a claim is taken over only when its owner is no longer live, from CLAIMED or DONE', () => {
  const ctl = block();
  claim(ctl, 0x101);
  assert.not.ok(takeOver(ctl, 0x102, () => true), 'a live owner keeps its claim');
  assert.ok(takeOver(ctl, 0x102, () => false));
  assert.is(Atomics.load(ctl, CTL_OWNER), 0x102);
  assert.is(state(ctl), ST_CLAIMED);
  post(ctl);
  assert.not.ok(takeOver(ctl, 0x103, () => false), 'a request in the server\'s hands is not taken over');
  take(ctl);
  finish(ctl, 7, '');
  assert.ok(takeOver(ctl, 0x103, () => false), 'a dead claimant\'s unread result is dropped');
  assert.is(state(ctl), ST_CLAIMED);
});

test('the first finisher wins; a server gone fails a request at once, taken or not', () => {
  const ctl = block();
  claim(ctl, 0x101);
  post(ctl);
  take(ctl);
  assert.ok(finish(ctl, 42, 'the child'));
  assert.not.ok(finish(ctl, -1, 'late'), 'a second finisher loses');
  assert.is(Atomics.load(ctl, CTL_RESULT), 42);
  assert.is(readMessage(ctl), 'the child');
  release(ctl);
  for (const taken of [false, true]) {
    claim(ctl, 0x101);
    post(ctl);
    if (taken) take(ctl);
    assert.is(state(ctl), taken ? ST_TAKEN : ST_REQUEST);
    serverGone(ctl, 'gone');
    assert.is(state(ctl), ST_DONE);
    assert.is(Atomics.load(ctl, CTL_RESULT), FORK_E_SERVER_DIED);
    assert.is(Atomics.load(ctl, CTL_SERVER), SERVER_GONE);
    release(ctl);
  }
  serverGone(ctl, 'gone again');
  assert.is(state(ctl), ST_IDLE, 'no request in flight: nothing to fail');
});

test('process table: claimed, exited, reaped exactly once', () => {
  const ctl = block();
  const slot = procClaim(ctl, 4242);
  assert.ok(slot > 0);
  assert.equal(procRunning(ctl), [4242]);
  const e = procFind(ctl, 4242)!;
  assert.is(e.slot, slot);
  assert.is(procReap(ctl, e), REAP_RUNNING, 'not reaped while running');
  procExited(ctl, 4242, 9);
  assert.is(procState(Atomics.load(ctl, slot + 1)), PROC_EXITED);
  assert.is(procReap(ctl, e), 9);
  assert.is(procReap(ctl, e), REAP_GONE, 'reaped once');
  assert.is(procFind(ctl, 4242), undefined);
});

test('process table: a waiter of a reaped child never takes the next child of its slot for it', () => {
  const ctl = block();
  const slot = procClaim(ctl, 7);
  const late = procFind(ctl, 7)!; // a second waiter, found while 7 ran
  procExited(ctl, 7, 1);
  assert.is(procReap(ctl, procFind(ctl, 7)!), 1);
  assert.is(procClaim(ctl, 8), slot, 'the slot is reused');
  assert.is(procReap(ctl, late), REAP_GONE, 'not waiting for child 8');
  procExited(ctl, 8, 2);
  assert.is(procReap(ctl, late), REAP_GONE, 'not reaping child 8');
  assert.is(procReap(ctl, procFind(ctl, 8)!), 2);
});

test('process table: an entry never acknowledged is released, and its waiter answers E_CHILD', () => {
  const ctl = block();
  const slot = procClaim(ctl, 5);
  const e = procFind(ctl, 5)!;
  procRelease(ctl, slot);
  assert.is(procReap(ctl, e), REAP_GONE);
  assert.is(procFind(ctl, 5), undefined);
  assert.equal(procRunning(ctl), []);
});

test.run();
