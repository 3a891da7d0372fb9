// The non-blocking exports a page's main thread uses (start_try,
// stop_abandon_try, mark_dead_try, unregister_try), on one OS thread: a
// REGISTERING slot is staged by writing its word, where a blocking form would
// wait for it to settle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bareCore, waitFor, within } from './lib/helpers.js';
import { ERRNO as E } from '../host/errors.js';
import {
  ST_DEAD, ST_DETACHED, ST_REGISTERING, ST_SUSPENDED, STOP_BIT, W_EXCLUSION, W_REQUESTED, S_TIMEOUTS, slotAddr,
} from '../host/layout.js';

async function staged() {
  const { core, i32 } = await bareCore();
  core.init(4);
  const h = core.register(1);
  assert.is(core.attach(h), 0);
  // slot 1 as a registrant leaves it mid-registration (generation 1)
  const reg = (1 << 8) | 1;
  const word = (index: number) => Atomics.load(i32, slotAddr(index) >> 2);
  const setWord = (index: number, w: number) => Atomics.store(i32, slotAddr(index) >> 2, w);
  setWord(1, (1 << 8) | ST_REGISTERING);
  return { core, i32, h, reg, word, setWord };
}

test('start_try: E_WOULD_BLOCK while a slot registers, with the request withdrawn and the stop held; then 0', () =>
  within(5000, async () => {
    const { core, i32, h, word, setWord } = await staged();
    assert.is(core.stop_try_begin(h), 0);
    assert.is(core.stop_step(h), 1, 'the registering slot is pending');
    assert.is(core.start_try(h), E.E_WOULD_BLOCK);
    assert.is(Atomics.load(i32, W_REQUESTED >> 2), 0, 'request withdrawn');
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), h, 'stop still held');
    assert.is(core.start_try(h), E.E_WOULD_BLOCK, 'still registering');
    // the registrant read the request before it was withdrawn: it settles SUSPENDED
    setWord(1, (1 << 8) | ST_SUSPENDED);
    assert.is(core.start_try(h), 0);
    assert.is(word(1) & 0xf, ST_DETACHED, 'resumed by the second pass');
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), 0, 'stop released');
    assert.is(core.is_stopped(), 0);
    assert.is(core.start_try(h), E.E_NOT_REQUESTER, 'nothing left to start');
  }));

test('start_try gives up a slot that stays REGISTERING (its registrant died inside register); a late settle heals itself', () =>
  within(5000, async () => {
    const { core, i32, h, reg, word, setWord } = await staged();
    assert.is(core.stop_try_begin(h), 0);
    assert.is(core.stop_step(h), 1);
    let r = core.start_try(h);
    assert.is(r, E.E_WOULD_BLOCK, 'first call: the slot is waited for');
    // never settles: the bound of the release ends the wait, as start's does
    await waitFor(() => (r = core.start_try(h)) !== E.E_WOULD_BLOCK, 3000, 'start_try to give the slot up');
    assert.is(r, 0);
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), 0, 'stop released');
    assert.is(word(1) & 0xf, ST_REGISTERING, 'the slot was left as it was');
    // a registrant that read the request settles SUSPENDED after the release: it resumes itself
    setWord(1, (1 << 8) | ST_SUSPENDED);
    assert.is(core.unregister_try(reg), 0, 'healed, then unregistered without blocking');
  }));

test('stop_abandon_try records the straggler and the timeout once, then completes', () =>
  within(5000, async () => {
    const { core, i32, h, reg, setWord } = await staged();
    assert.is(core.stop_try_begin(h), 0);
    assert.is(core.stop_step(h), 1);
    assert.is(core.stop_abandon_try(h), E.E_WOULD_BLOCK);
    assert.is(core.straggler_count(), 1);
    assert.is(core.straggler(0), reg);
    assert.is(core.stop_abandon_try(h), E.E_WOULD_BLOCK, 'a repeat does not record again');
    setWord(1, (1 << 8) | ST_DETACHED);
    assert.is(core.stop_abandon_try(h), 1, 'released: the straggler count');
    assert.is(Number(Atomics.load(new BigInt64Array(i32.buffer), S_TIMEOUTS >> 3)), 1, 'one timeout counted');
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), 0);
  }));

test('mark_dead_try of the requester: DEAD at once, the stop released once the slot settles', () =>
  within(5000, async () => {
    const { core, i32, h, word, setWord } = await staged();
    const w = core.register(2); // slot 2: the requester that dies
    assert.is(core.attach(w), 0);
    assert.is(core.stop_try_begin(w), 0);
    assert.is(core.stop_step(w), 2, 'pending: the registering slot and the attached main thread');
    assert.is(word(0) & STOP_BIT, STOP_BIT, 'the main thread is asked to stop');
    assert.is(core.mark_dead_try(w), E.E_WOULD_BLOCK);
    assert.is(word(2) & 0xf, ST_DEAD);
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), w, 'the dead thread still holds the stop');
    setWord(1, (1 << 8) | ST_DETACHED);
    assert.is(core.mark_dead_try(w), 0);
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), 0, 'released');
    assert.is(word(0) & STOP_BIT, 0, 'the request withdrawn from the main thread');
    assert.is(core.mark_dead_try(w), 0, 'idempotent');
    assert.is(core.poll(h), 0, 'the main thread runs on');
  }));

test('mark_dead_try of a requester that died before raising its request: the stop counts as abandoned and is released', () =>
  within(5000, async () => {
    const { core, i32, setWord } = await staged();
    setWord(1, 0); // no registrant in this one
    const w = core.register(2);
    assert.is(core.attach(w), 0);
    // the exclusion taken, the request not yet raised (stop_try_begin's first step)
    Atomics.store(i32, W_EXCLUSION >> 2, w);
    assert.is(core.mark_dead_try(w), 0);
    assert.is(Atomics.load(i32, W_EXCLUSION >> 2), 0, 'released');
    assert.is(Number(Atomics.load(new BigInt64Array(i32.buffer), S_TIMEOUTS >> 3)), 1, 'one timeout counted');
    assert.is(core.mark_dead_try(w), 0, 'idempotent');
    assert.is(Number(Atomics.load(new BigInt64Array(i32.buffer), S_TIMEOUTS >> 3)), 1, 'counted once');
  }));

test('unregister_try: E_WOULD_BLOCK while SUSPENDED, 0 once resumed', () =>
  within(5000, async () => {
    const { core, h, word, setWord } = await staged();
    setWord(1, 0); // no registrant in this one
    assert.is(core.detach(h), 0);
    const w = core.register(2);
    assert.is(core.attach(w), 0);
    assert.is(core.stop_try_begin(w), 0);
    assert.is(core.stop_step(w), 0);
    assert.is(word(0) & 0xf, ST_SUSPENDED, 'the detached main thread is parked');
    assert.is(core.unregister_try(h), E.E_WOULD_BLOCK);
    assert.is(core.start_try(w), 0);
    assert.is(core.unregister_try(h), 0);
    assert.is(core.unregister_try(h), E.E_STALE);
  }));

test.run();
