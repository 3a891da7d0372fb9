// Claiming the fork control block in turn (host/fork/turn.ts): a thread whose
// claim failed is named in CTL_NEXT and claims before any other thread, unless
// it is gone or does not come; its name is cleared however its claim ends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CTL_NEXT, CTL_OWNER, CTL_STATE, abandon, claim, controlWords, createControl } from '../host/fork/protocol.js';
import { claimInTurn, type Claimant } from '../host/fork/turn.js';
import { runBlocking, type WaitStep } from '../host/steps.js';

const A = 0x101;
const B = 0x102;
const C = 0x103;
const block = () => controlWords(createControl(4));
const claimant = (ctl: Int32Array, handle: number, live: (h: number) => boolean = () => true): Claimant => ({
  handle, isLive: live, wait: (index, value, ms): WaitStep => ({ i32: ctl, index, value, ms }),
});
const waitsOn = (r: IteratorResult<unknown, number>) => (r.done ? 'done' : (r.value as WaitStep).index);

test('a thread whose claim failed claims next: another thread waits for it, then waits its own turn', () => {
  const ctl = block();
  assert.ok(claim(ctl, A));
  const b = claimInTurn(ctl, claimant(ctl, B), 50);
  assert.is(waitsOn(b.next()), CTL_STATE, 'B waits for the block');
  assert.is(Atomics.load(ctl, CTL_NEXT), B, 'B is named');
  abandon(ctl);
  const c = claimInTurn(ctl, claimant(ctl, C), 50);
  assert.is(waitsOn(c.next()), CTL_NEXT, 'C, coming as the block is free, lets B claim first');
  assert.is(Atomics.load(ctl, CTL_STATE), 0, 'the block is still free');
  assert.is(waitsOn(b.next()), 'done', 'B claims');
  assert.is(Atomics.load(ctl, CTL_OWNER), B);
  assert.is(Atomics.load(ctl, CTL_NEXT), 0, 'B\'s turn is over');
  assert.is(waitsOn(c.next()), CTL_STATE, 'C now waits for the block');
  assert.is(Atomics.load(ctl, CTL_NEXT), C, 'and is named');
});

test('a named thread that is gone is passed over', () => {
  const ctl = block();
  Atomics.store(ctl, CTL_NEXT, B);
  assert.is(waitsOn(claimInTurn(ctl, claimant(ctl, C, (h) => h !== B), 50).next()), 'done');
  assert.is(Atomics.load(ctl, CTL_OWNER), C);
  assert.is(Atomics.load(ctl, CTL_NEXT), 0);
});

test('a named thread that does not come holds the others back for a bounded time only', () => {
  const ctl = block();
  Atomics.store(ctl, CTL_NEXT, B);
  runBlocking(claimInTurn(ctl, claimant(ctl, C), 50));
  assert.is(Atomics.load(ctl, CTL_OWNER), C, 'C claimed past B\'s turn');
  assert.is(Atomics.load(ctl, CTL_NEXT), B, 'B keeps its turn for when it comes');
});

test('a claim that fails while named gives its turn up', () => {
  const ctl = block();
  claim(ctl, A);
  const b = claimInTurn(ctl, claimant(ctl, B), 50);
  b.next();
  assert.is(Atomics.load(ctl, CTL_NEXT), B);
  assert.throws(() => b.throw(new Error('the wait failed')), /the wait failed/);
  assert.is(Atomics.load(ctl, CTL_NEXT), 0);
});

test.run();
