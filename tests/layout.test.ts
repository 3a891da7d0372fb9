// The host's mirror of the memory map agrees with the module.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bareCore, within } from './lib/helpers.js';
import * as L from '../host/layout.js';
import { ERRNO } from '../host/errors.js';

test('header, slots and locks sit where host/layout.ts says', () =>
  within(5000, async () => {
    const { core, i32 } = await bareCore();
    assert.is(core.layout_end(), L.LAYOUT_END);
    assert.is(core.abi_version(), L.ABI_VERSION);
    core.init(5);
    assert.is(Atomics.load(i32, L.H_MAGIC >> 2), L.MAGIC);
    assert.is(Atomics.load(i32, L.H_ABI >> 2), L.ABI_VERSION);
    assert.is(Atomics.load(i32, L.H_CAPACITY >> 2), 5);
    assert.is(Atomics.load(i32, L.H_INIT >> 2), 2);
    const h = core.register(77);
    assert.is(Atomics.load(i32, L.slotAddr(L.handleIndex(h)) >> 2), (h & L.GEN_MASK) | L.ST_DETACHED);
    assert.is(Atomics.load(i32, (L.slotAddr(L.handleIndex(h)) + L.SL_TID) >> 2), 77);
    assert.is(core.slot_word(L.handleIndex(h)), Atomics.load(i32, L.slotAddr(L.handleIndex(h)) >> 2));
    assert.is(core.slot_word(5), ERRNO.E_ARG, 'index beyond capacity');
    const lock = core.lock_create(L.LOCK_MUTEX);
    assert.is(core.lock_addr(lock), L.LOCKS + lock * L.LOCK_SIZE + L.LK_WORD);
    core.attach(h);
    assert.is(core.stop(h, 10), 0);
    assert.is(Atomics.load(i32, L.W_EXCLUSION >> 2), h);
    assert.is(Atomics.load(i32, L.W_REQUESTED >> 2), 1);
    assert.is(Atomics.load(i32, L.W_STOPPED >> 2), 1);
    core.start(h);
    assert.is(Atomics.load(i32, L.W_REQUESTED >> 2), 0);
    assert.is(new BigInt64Array(i32.buffer)[L.S_STOPS >> 3], 1n);
    assert.ok(core.heap_base() >= L.LAYOUT_END);
  }));

test.run();
