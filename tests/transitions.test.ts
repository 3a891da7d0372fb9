// Every thread-state transition, legal and illegal, on one OS thread: the
// main thread registers several handles and plays each role in turn.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bareCore, within } from './lib/helpers.js';
import { ERRNO as E, ThreadStateError, StopTimeoutError } from '../host/errors.js';
import { RegisteredThread } from '../host/thread.js';
import {
  ST_DETACHED, ST_ATTACHED, ST_SUSPENDED, ST_DEAD, STOP_BIT, ABI_VERSION, LAYOUT_END, S_STOPS, S_TIMEOUTS, W_FORCED_PARKS,
  SL_REATTACH, slotAddr,
} from '../host/layout.js';

test('before init every export refuses with E_NOT_INIT, and bad capacities leave it uninitialised', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    assert.is(core.is_ready(), 0);
    assert.is(core.register(1), E.E_NOT_INIT);
    assert.is(core.poll(0x100), E.E_NOT_INIT);
    assert.is(core.attach(0x100), E.E_NOT_INIT);
    assert.is(core.stop(0x100, 10), E.E_NOT_INIT);
    assert.is(core.capacity(), E.E_NOT_INIT);
    assert.is(core.cache_write(0x101, 0, 1, 1, 1), E.E_NOT_INIT);
    for (const bad of [0, -1, 257, 1 << 30]) assert.is(core.init(bad), E.E_ARG, `init(${bad})`);
    assert.is(core.is_ready(), 0);
    assert.is(core.init(4), 0);
    assert.is(core.init(4), E.E_ALREADY_INIT);
    assert.is(core.init(8), E.E_ALREADY_INIT);
    assert.is(core.capacity(), 4);
    assert.is(core.abi_version(), ABI_VERSION);
    assert.is(core.layout_end(), LAYOUT_END);
    assert.ok(core.heap_base() >= LAYOUT_END);
  }));

test('register fills the registry, then E_FULL; handles carry index and generation', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(3);
    const hs = [core.register(1), core.register(2), core.register(3)];
    assert.equal(hs.map((h) => h & 0xff), [0, 1, 2]);
    assert.ok(hs.every((h) => h >>> 8 === 1));
    assert.is(core.register(4), E.E_FULL);
    for (const h of hs) assert.is(core.thread_state(h), ST_DETACHED);
    // a freed slot is reused with the next generation; the old handle is stale
    assert.is(core.unregister(hs[1]), 0);
    const again = core.register(5);
    assert.is(again & 0xff, 1);
    assert.is(again >>> 8, 2);
    assert.is(core.thread_state(hs[1]), E.E_STALE);
    assert.is(core.poll(hs[1]), E.E_STALE);
    assert.is(core.attach(hs[1]), E.E_STALE);
  }));

test('bad handles: zero, negative, index beyond capacity, never issued', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(2);
    const h = core.register(1);
    for (const fn of ['poll', 'attach', 'try_attach', 'detach', 'unregister', 'mark_dead', 'thread_state', 'start'] as const) {
      assert.is(core[fn](0), E.E_BAD_HANDLE, `${fn}(0)`);
      assert.is(core[fn](-5), E.E_BAD_HANDLE, `${fn}(-5)`);
      assert.is(core[fn]((1 << 8) | 7), E.E_BAD_HANDLE, `${fn}(index 7)`);
      assert.is(core[fn]((9 << 8) | 1), E.E_STALE, `${fn}(never issued)`);
    }
    assert.is(core.stop(0, 10), E.E_BAD_HANDLE);
    assert.is(core.thread_state(h), ST_DETACHED, 'state intact');
  }));

test('owner transitions: attach/detach/poll, and what each refuses', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(4);
    const h = core.register(1);
    assert.is(core.poll(h), E.E_STATE, 'poll while detached');
    assert.is(core.detach(h), E.E_STATE, 'detach while detached');
    assert.is(core.attach(h), 0);
    assert.is(core.thread_state(h), ST_ATTACHED);
    assert.is(core.attach(h), E.E_STATE, 'attach twice');
    assert.is(core.try_attach(h), E.E_STATE);
    assert.is(core.poll(h), 0);
    assert.is(core.unregister(h), E.E_STATE, 'unregister while attached');
    assert.is(core.detach(h), 0);
    assert.is(core.try_attach(h), 0);
    assert.is(core.detach(h), 0);
    assert.is(core.unregister(h), 0);
    assert.is(core.unregister(h), E.E_STALE);
  }));

test('stop-the-world in steps: parking, self-suspend on detach, registration during a stop, start', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(8);
    const A = core.register(1); // attached worker
    const B = core.register(2); // requester
    const C = core.register(3); // detached (blocking call)
    core.attach(A);
    assert.is(core.stop_try_begin(B), E.E_STATE, 'requester must be attached');
    assert.is(core.stop(B, 10), E.E_STATE);
    core.attach(B);
    assert.is(core.stop(B, -1), E.E_ARG);
    assert.is(core.stop_step(B), E.E_NOT_REQUESTER, 'step before begin');
    assert.is(core.stop_try_begin(B), 0);
    assert.is(core.stop_try_begin(B), E.E_ALREADY, 'stop twice');
    assert.is(core.stop(B, 10), E.E_ALREADY);
    assert.is(core.stop_try_begin(A), E.E_WOULD_BLOCK, 'a second requester waits its turn');
    assert.is(core.stop_step(B), 1, 'A still attached');
    assert.is(core.thread_state(C), ST_SUSPENDED, 'C parked without running');
    assert.is(core.thread_state(A), ST_ATTACHED | STOP_BIT, 'A asked to suspend');
    assert.is(core.try_attach(C), E.E_WOULD_BLOCK, 'C cannot attach while suspended');
    assert.is(core.start(A), E.E_NOT_REQUESTER);
    assert.is(core.detach(A), 0, 'detach with a stop pending suspends');
    assert.is(core.thread_state(A), ST_SUSPENDED);
    assert.is(core.is_stopped(), 0);
    assert.is(core.stop_step(B), 0, 'world stopped');
    assert.is(core.is_stopped(), 1);
    const D = core.register(4);
    assert.is(core.thread_state(D), ST_SUSPENDED, 'registered during a stop: starts suspended');
    assert.is(core.start(B), 0);
    assert.is(core.is_stopped(), 0);
    for (const h of [A, C, D]) assert.is(core.thread_state(h), ST_DETACHED);
    assert.is(core.start(B), E.E_NOT_REQUESTER, 'start without stop');
    assert.is(core.try_attach(A), 0);
    assert.is(core.thread_state(B), ST_ATTACHED, 'requester stays attached');
  }));

// docs/ABI.md "Fairness": a refused try_attach sets the re-attach flag, and it
// is cleared once the thread attaches, whichever attach path it takes; a flag
// left set would hold every later blocking stop for the whole back-off.
for (const path of ['try_attach', 'attach', 'attachAsync'] as const) {
  test(`Fairness: the re-attach flag a refused try_attach set is cleared once the thread attaches (${path})`, () =>
    within(5000, async () => {
      const { core, memory, i32 } = await bareCore();
      core.init(4);
      const A = core.register(1);
      const B = core.register(2);
      const flag = () => Atomics.load(i32, (slotAddr(A & 0xff) + SL_REATTACH) >> 2);
      core.attach(B);
      for (let round = 0; round < 3; round++) {
        assert.is(core.stop(B, 100), 0);
        assert.is(core.thread_state(A), ST_SUSPENDED);
        assert.is(core.try_attach(A), E.E_WOULD_BLOCK, 'refused while the world is stopped');
        assert.is(flag(), 1, 'the refusal set the flag');
        assert.is(core.start(B), 0);
        assert.is(core.thread_state(A), ST_DETACHED, 'resumed, not yet re-attached');
        if (path === 'try_attach') assert.is(core.try_attach(A), 0);
        else if (path === 'attach') assert.is(core.attach(A), 0);
        else await new RegisteredThread(core, memory, A).attachAsync();
        assert.is(core.thread_state(A), ST_ATTACHED);
        assert.is(flag(), 0, `${path} cleared the flag (round ${round})`);
        assert.is(core.detach(A), 0);
      }
    }));
}

test('a straggler makes stop time out: named, STOP withdrawn, parked threads resumed', () =>
  within(5000, async () => {
    const { core, memory } = await bareCore();
    core.init(8);
    const A = core.register(1);
    const B = core.register(2);
    const C = core.register(3);
    core.attach(A);
    core.attach(B);
    assert.is(core.stop(B, 0), E.E_TIMEOUT);
    assert.is(core.straggler_count(), 1);
    assert.is(core.straggler(0), A);
    assert.is(core.straggler(1), E.E_ARG);
    assert.is(core.straggler(-1), E.E_ARG);
    assert.is(core.thread_state(A), ST_ATTACHED, 'stop bit withdrawn');
    assert.is(core.thread_state(C), ST_DETACHED, 'parked thread resumed');
    assert.is(core.is_stopped(), 0);
    assert.is(core.start(B), E.E_NOT_REQUESTER, 'nothing left to start');
    // the host-level error names the straggler
    const t = new RegisteredThread(core, memory, B);
    try {
      t.stopTheWorld({ timeoutMs: 0 });
      assert.unreachable('should time out');
    } catch (e) {
      assert.instance(e, StopTimeoutError);
      assert.is((e as StopTimeoutError).code, 'E_TIMEOUT');
      assert.equal((e as StopTimeoutError).stragglers, [A]);
    }
    // once A is no longer running, the next stop succeeds
    core.detach(A);
    assert.is(core.stop(B, 100), 0);
    assert.is(core.start(B), 0);
  }));

test('mark_dead: a dead thread never holds up a stop; a dead requester restores the world', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(3);
    const A = core.register(1);
    const B = core.register(2);
    const C = core.register(3);
    core.attach(A);
    core.attach(B);
    assert.is(core.mark_dead(A), 0);
    assert.is(core.thread_state(A), ST_DEAD);
    assert.is(core.mark_dead(A), 0, 'idempotent');
    assert.is(core.attach(A), E.E_STATE);
    assert.is(core.stop(B, 50), 0, 'dead thread not waited for');
    assert.is(core.thread_state(C), ST_SUSPENDED);
    assert.is(core.mark_dead(B), 0, 'the requester dies holding the stop');
    assert.is(core.thread_state(C), ST_DETACHED, 'world restored');
    assert.is(core.is_stopped(), 0);
    // the registry is full but DEAD slots are reclaimed
    const D = core.register(4);
    assert.ok(D > 0);
    assert.ok([0, 1].includes(D & 0xff));
    assert.is(core.thread_state(A) === ST_DEAD || core.thread_state(B) === ST_DEAD, true);
  }));

test('stats count stops and timeouts; reset zeroes them', () =>
  within(5000, async () => {
    const { core, i32 } = await bareCore();
    core.init(4);
    const A = core.register(1);
    const B = core.register(2);
    core.attach(B);
    for (let k = 0; k < 5; k++) {
      assert.is(core.stop(B, 100), 0);
      assert.is(core.start(B), 0);
    }
    core.attach(A);
    assert.is(core.stop(B, 0), E.E_TIMEOUT);
    const i64 = new BigInt64Array(i32.buffer);
    assert.is(i64[S_STOPS >> 3], 5n, 'stops');
    assert.is(i64[S_TIMEOUTS >> 3], 1n, 'timeouts');
    assert.is(i64[W_FORCED_PARKS >> 3], 5n, 'forced parks of the detached thread');
    assert.is(core.stats_reset(), 0);
    assert.is(i64[S_STOPS >> 3], 0n);
    assert.is(i64[S_TIMEOUTS >> 3], 0n);
  }));

test('host wrappers throw typed errors with codes and leave state intact', () =>
  within(5000, async () => {
    const { core, memory } = await bareCore();
    core.init(4);
    const h = core.register(1);
    const t = new RegisteredThread(core, memory, h);
    try {
      t.detach();
      assert.unreachable();
    } catch (e) {
      assert.instance(e, ThreadStateError);
      assert.is((e as ThreadStateError).code, 'E_STATE');
      assert.is((e as ThreadStateError).errno, E.E_STATE);
    }
    assert.is(t.state, 'DETACHED');
    assert.throws(() => t.stopTheWorld({ timeoutMs: -1 }), /timeoutMs/);
    assert.throws(() => t.stopTheWorld({ timeoutMs: Number.NaN }), /timeoutMs/);
    assert.is(t.state, 'DETACHED');
  }));

test.run();
