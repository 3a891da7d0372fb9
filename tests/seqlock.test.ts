// Seqlock descriptor cache and generic records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRNO as E, InvalidArgumentError } from '../host/errors.js';
import { CACHE, CACHE_ENTRY_SIZE, SLOTS, RECORDS, RECORD_SIZE, REC_WRITER, cacheWriterAddr, LAYOUT_END, S_SEQ, userWordAddr } from '../host/layout.js';
import { interpOf } from '../host/modules.js';
import { DIAG_QUIT as D_QUIT, DIAG_SCRATCH } from '../host/diag.js';
import { bareCore, createRuntime, job, shutdown, waitFor, within } from './lib/helpers.js';
import { TESTING_WASM } from './lib/testing-build.js';
import { assemble } from '../interp/assembler.js';
import { Interpreter, CTX } from '../interp/interpreter.js';

const HIT = 1n << 32n;
const REC = 7;

test('cache: hit, miss on type version, miss on metaclass version, invalidation; a hit of 0 is not a miss', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(4);
    const h = core.register(1);
    assert.is(core.cache_read(3, 7, 9), 0n, 'empty entry misses');
    assert.is(core.cache_write(h, 3, 7, 9, 1234), 0);
    assert.is(core.cache_read(3, 7, 9), HIT | 1234n);
    assert.is(core.cache_read(3, 8, 9), 0n, 'type version changed');
    assert.is(core.cache_read(3, 7, 10), 0n, 'metaclass version changed');
    assert.is(core.cache_write(h, 3, 7, 9, 0), 0);
    assert.is(core.cache_read(3, 7, 9), HIT, 'hit of value 0');
    assert.is(core.cache_invalidate(h, 3), 0);
    assert.is(core.cache_read(3, 7, 9), 0n);
    assert.is(core.cache_read(3, 0, 0), 0n, 'version 0 never hits');
    assert.is(core.cache_write(h, 3, 0xffffffff, 0xfffffffe, 0xffffffff), 0);
    assert.is(core.cache_read(3, 0xffffffff, 0xfffffffe), HIT | 0xffffffffn, 'full 32-bit payloads');
  }));

test('cache and records reject bad indexes and ranges with E_ARG, leaving entries intact', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(4);
    const h = core.register(1);
    core.cache_write(h, 1, 5, 5, 55);
    for (const i of [-1, 4096, 1 << 30]) {
      assert.is(core.cache_write(h, i, 1, 1, 1), E.E_ARG);
      assert.is(core.cache_invalidate(h, i), E.E_ARG);
      assert.is(core.cache_read(i, 1, 1), BigInt(E.E_ARG));
    }
    assert.is(core.cache_read(1, 5, 5), HIT | 55n);
    const dst = core.heap_base();
    assert.is(core.record_fill(h, 8, 1, 1), E.E_ARG, 'record index');
    assert.is(core.record_fill(h, 0, 1, 241), E.E_ARG, 'too many words');
    assert.is(core.record_read(0, 0, SLOTS, 4), E.E_ARG, 'destination inside the fixed layout');
    assert.is(core.record_read(0, 0, 4 * 65536 - 8, 4), E.E_ARG, 'destination past memory');
    assert.is(core.record_read(0, 239, dst, 2), E.E_ARG, 'range past the record');
    assert.is(core.record_write(h, 0, 0, 4 * 65536 - 4, 2), E.E_ARG, 'source past memory');
    assert.ok(dst >= LAYOUT_END);
  }));

test('seqlock writes name a registered writer: a bad or stale handle is refused before anything is written', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    assert.is(core.cache_write(1, 0, 1, 1, 1), E.E_NOT_INIT, 'before init');
    core.init(4);
    const h = core.register(1);
    assert.is(core.cache_write(h, 2, 3, 4, 5), 0);
    for (const bad of [0, -1, 7, (h & ~0xff) | 9]) {
      assert.ok(core.cache_write(bad, 2, 3, 4, 6) < 0, `cache_write(${bad})`);
      assert.ok(core.cache_invalidate(bad, 2) < 0, `cache_invalidate(${bad})`);
      assert.ok(core.record_fill(bad, 0, 1, 1) < 0, `record_fill(${bad})`);
      assert.ok(core.record_write(bad, 0, 0, core.heap_base(), 1) < 0, `record_write(${bad})`);
    }
    assert.is(core.cache_read(2, 3, 4), HIT | 5n, 'the entry is as the registered writer left it');
    assert.is(core.unregister(h), 0);
    assert.is(core.cache_write(h, 2, 3, 4, 7), E.E_STALE, 'an unregistered writer is stale');
  }));

test('records: a validated read returns exactly what one write stored', () =>
  within(5000, async () => {
    const { core, memory } = await bareCore();
    core.init(4);
    const h = core.register(1);
    const src = core.heap_base() + 1024;
    const dst = src + 4096;
    const u32 = new Uint32Array(memory.buffer);
    for (let i = 0; i < 16; i++) u32[(src >> 2) + i] = 1000 + i;
    assert.is(core.record_write(h, 2, 4, src, 16), 0);
    assert.is(core.record_read(2, 4, dst, 16), 0);
    assert.equal([...u32.subarray(dst >> 2, (dst >> 2) + 16)], Array.from({ length: 16 }, (_, i) => 1000 + i));
    assert.is(core.record_fill(h, 2, 9, 3), 0);
    assert.is(core.record_read(2, 0, dst, 5), 0);
    assert.equal([...u32.subarray(dst >> 2, (dst >> 2) + 5)], [9, 9, 9, 0, 1000]);
  }));

// DPDK test_seqlock: writers store one random value into three words on
// separate cache lines, pausing inside the write now and then; readers check
// every validated snapshot. The control reads without validation and must see tears.
async function tornRun(validate: boolean, ms: number): Promise<{ torn: number; reads: number; writes: number }> {
  const rt = await createRuntime({ capacity: 8 });
  try {
    const i32 = new Int32Array(rt.memory.buffer);
    const writers = [1, 2].map((seed) =>
      rt.spawn(job('diag'), { op: 'record-writer', rec: REC, seed: seed * 7919 }));
    const readers = [0, 1].map(() => rt.spawn(job('diag'), { op: 'record-reader', rec: REC, validate }));
    const handles = await Promise.all(readers.map((r) => r.registered()));
    await Promise.all(writers.map((w) => w.registered()));
    const end = performance.now() + ms;
    await waitFor(() => performance.now() > end, ms + 5000, 'the run to last');
    Atomics.store(i32, D_QUIT >> 2, 1);
    const torn = (await Promise.all(readers.map((r) => r.join()))) as number[];
    const writes = (await Promise.all(writers.map((w) => w.join()))) as number[];
    const reads = handles.map((h) => Atomics.load(i32, userWordAddr(h & 0xff, 1) >> 2) >>> 0);
    return { torn: torn[0] + torn[1], reads: reads[0] + reads[1], writes: writes[0] + writes[1] };
  } finally {
    await shutdown(rt);
  }
}

test('torn-read stress: 2 writers, 2 readers, validated reads never tear', () =>
  within(30_000, async () => {
    const r = await tornRun(true, 1500);
    assert.ok(r.writes > 1000, `writers ran (${r.writes})`);
    assert.ok(r.reads > 1000, `readers validated snapshots (${r.reads})`);
    assert.is(r.torn, 0);
  }));

test('negative control: the same workload read without validation does tear', () =>
  within(30_000, async () => {
    const r = await tornRun(false, 1500);
    assert.ok(r.torn > 0, `expected torn reads without validation (reads ${r.reads}, writes ${r.writes})`);
  }));

test('after fork in the child, odd sequences are cleared and their payloads invalidated', () =>
  within(5000, async () => {
    const { core, i32 } = await bareCore();
    core.init(4);
    const h = core.register(1);
    core.attach(h);
    core.cache_write(h, 10, 3, 4, 5);
    core.cache_write(h, 11, 6, 7, 8);
    // simulate a writer killed mid-write on entry 11: its handle in the writer word, the sequence odd
    const dead = core.register(2);
    const seqIdx = (CACHE + 11 * CACHE_ENTRY_SIZE) >> 2;
    Atomics.store(i32, cacheWriterAddr(11) >> 2, dead);
    Atomics.add(i32, seqIdx, 1);
    core.mark_dead(dead);
    assert.is(core.cache_read(11, 6, 7), 0n, 'an odd sequence reads as a miss');
    assert.is(core.cache_write(h, 11, 6, 7, 1), E.E_BUSY, 'a dead writer makes writes fail, not hang');
    assert.is(core.stop(h, 10), 0);
    assert.is(core.after_fork_child(h, 1), 0);
    assert.is(Atomics.load(i32, seqIdx) & 1, 0, 'sequence even again');
    assert.is(core.cache_read(11, 6, 7), 0n, 'payload invalidated');
    assert.is(core.cache_read(10, 3, 4), HIT | 5n, 'untouched entry survives');
    assert.is(core.cache_write(h, 11, 6, 7, 9), 0, 'writable again (would spin forever if left odd)');
    assert.is(core.cache_read(11, 6, 7), HIT | 9n);
  }));

test('host cache handle: hit, miss, invalidate; bad indexes and versions are typed errors', () =>
  within(10_000, async () => {
    const rt = await createRuntime({ capacity: 2 });
    try {
      const c = rt.cache(12);
      assert.is(c.read(1, 2), undefined);
      c.write(1, 2, 0);
      assert.is(c.read(1, 2), 0, 'a hit of 0 is not a miss');
      c.write(1, 2, 0xffffffff);
      assert.is(c.read(1, 2), 0xffffffff);
      assert.is(c.read(1, 3), undefined);
      c.invalidate();
      assert.is(c.read(1, 2), undefined);
      for (const bad of [-1, 4096, 1.5]) {
        assert.throws(() => rt.cache(bad), (e: unknown) => e instanceof InvalidArgumentError);
      }
      assert.throws(() => c.write(-1, 0, 0), (e: unknown) => e instanceof InvalidArgumentError);
      assert.throws(() => c.read(2 ** 32, 0), (e: unknown) => e instanceof InvalidArgumentError);
    } finally {
      await rt.close();
    }
  }));

test('two live writers on one entry, 4 busy threads on 2 cores, stops meanwhile: zero E_BUSY', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 16 });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      const busy = [0, 1, 2, 3].map(() => rt.spawn(job('spin')));
      const entry = { index: 77, tv: 3, mv: 4 };
      const writers = [1, 2].map((value) => rt.spawn(job('diag'), { op: 'cache-writer', ...entry, value, lock: -1 }));
      const handles = await Promise.all(writers.map((w) => w.registered()));
      await Promise.all(busy.map((w) => w.registered()));
      const end = performance.now() + 3000;
      let stops = 0;
      while (performance.now() < end) {
        rt.stopTheWorld({ timeoutMs: 10_000 });
        rt.startTheWorld();
        stops++;
        await new Promise((r) => setTimeout(r, 5));
      }
      Atomics.store(i32, D_QUIT >> 2, 1);
      const writes = (await Promise.all(writers.map((w) => w.join()))) as number[];
      const failed = handles.map((h) => Atomics.load(i32, userWordAddr(h & 0xff, 2) >> 2));
      assert.ok(writes.every((n) => n > 0), `both wrote (${writes})`);
      assert.equal(failed, [0, 0], 'no live writer was taken for a dead one');
      assert.ok(stops > 0);
      const hit = rt.cache(entry.index).read(entry.tv, entry.mv);
      assert.ok(hit === 1 || hit === 2, 'the entry holds one of the two writes');
    } finally {
      await shutdown(rt);
    }
  }));

test('a writer killed mid-write: the next writer waits while it lives, fails E_BUSY once it is marked dead', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8, wasm: TESTING_WASM });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      const rec = 5;
      const seq = RECORDS + rec * RECORD_SIZE;
      const holder = rt.spawn(job('diag'), { op: 'record-hold', rec, value: 9, release: DIAG_SCRATCH + 832 });
      const h = await holder.registered();
      await waitFor(() => (Atomics.load(i32, seq >> 2) & 1) === 1 && Atomics.load(i32, (seq + REC_WRITER) >> 2) === h,
        10_000, 'the holder to sit inside its write');
      const next = rt.spawn(job('diag'), { op: 'record-fill', rec, value: 10 });
      const nh = await next.registered();
      let settled = false;
      void next.join().finally(() => { settled = true; });
      // the second writer gives up waiting attached and sleeps detached: a live writer is waited for
      await waitFor(() => rt.threadStates().find((t) => t.handle === nh)?.state === 'DETACHED', 10_000, 'the next writer to wait detached');
      assert.is(Atomics.load(i32, (seq + REC_WRITER) >> 2) & 0x7fffffff, h, 'still the live holder');
      assert.not.ok(settled, 'no E_BUSY while the writer lives');
      await holder.terminate();
      assert.is(await next.join(), E.E_BUSY, 'E_BUSY once the writer is dead');
      assert.is(rt.threadStates().find((t) => t.handle === h)?.state, 'DEAD');
      rt.stopTheWorld({ timeoutMs: 5000 });
      rt.startTheWorld();
      assert.is(Atomics.load(i32, seq >> 2) & 1, 1, 'the torn record stays closed to readers');
      assert.is(rt.core.record_read(rec, 0, rt.core.heap_base(), 4), E.E_BUSY);
    } finally {
      await shutdown(rt);
    }
  }));

test('host stats read gives up with E_BUSY on a stats record a dead writer left mid-write', () =>
  within(20_000, async () => {
    const rt = await createRuntime({ capacity: 2 });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      assert.is(rt.stats().stops, 0);
      Atomics.add(i32, S_SEQ >> 2, 1);
      assert.throws(() => rt.stats(), (e: unknown) => (e as { code?: string }).code === 'E_BUSY');
      Atomics.add(i32, S_SEQ >> 2, 1);
      assert.is(rt.stats().stops, 0, 'readable again once even');
    } finally {
      await rt.close();
    }
  }));

// README "Live writers are not dead writers": a writer that registers, writes
// once and unregisters, in a loop, meets a second writer that writes the same
// entry non-stop. Nobody dies inside a write, so no write may fail: the second
// writer judges the writer word it finds now, not a slot it saw before (now
// FREE or reused). The churning writer runs on this thread, the other in a worker.
const CHURNS = 20_000;

type Churn = { writer: 'cache' | 'record' | 'type' };

async function churnAgainstNonStopWriter({ writer }: Churn): Promise<{ churnBusy: number; otherFailed: number; otherWrites: number }> {
  const rt = await createRuntime({ capacity: 8 });
  try {
    const { core, memory } = rt;
    const i32 = new Int32Array(memory.buffer);
    const entry = { index: 77, tv: 3, mv: 4 };
    const rec = 6;
    const type = 3;
    let other;
    let store: { run(h: number): number } | undefined;
    if (writer === 'type') {
      rt.main.attach();
      const it = new Interpreter(rt.main);
      const loop = it.load(assemble(`loop: push ${type}\npush 7\nstore_attr 1\njmp loop`));
      const once = it.load(assemble(`push ${type}\npush 8\nstore_attr 1\nhalt`));
      const ctx = it.frame(once);
      rt.main.detach();
      const vm = interpOf(core);
      store = {
        run(h: number): number {
          i32[(ctx + CTX.pc) >> 2] = 0;
          i32[(ctx + CTX.sp) >> 2] = 0;
          i32[(ctx + CTX.fp) >> 2] = 0;
          return vm.interp_run(h, ctx, 0);
        },
      };
      other = rt.spawn(new URL('../scripts/jobs/interp.js', import.meta.url), { program: loop });
    } else if (writer === 'cache') {
      other = rt.spawn(job('diag'), { op: 'cache-writer', ...entry, value: 1, lock: -1 });
    } else {
      other = rt.spawn(job('diag'), { op: 'record-writer', rec, seed: 7919 });
    }
    const oh = await other.registered();
    let ended: unknown;
    void other.join().then((r) => { ended = r; }, (e) => { ended = e; });
    let churnBusy = 0;
    for (let k = 0; k < CHURNS && ended === undefined; k++) {
      const h = core.register(1000 + k);
      assert.ok(h > 0, `register: ${h}`);
      let r: number;
      if (writer === 'cache') r = core.cache_write(h, entry.index, entry.tv, entry.mv, 2);
      else if (writer === 'record') r = core.record_fill(h, rec, k, 33);
      else {
        assert.is(core.attach(h), 0);
        r = store!.run(h);
        assert.is(core.detach(h), 0);
      }
      if (r === E.E_BUSY) churnBusy++;
      else assert.is(r, 0, `the churning write ${k}`);
      assert.is(core.unregister(h), 0);
      if ((k & 1023) === 0) await new Promise((res) => setImmediate(res));
    }
    assert.is(ended, undefined, `the non-stop writer ended early: ${String(ended)}`);
    const otherFailed = writer === 'cache' ? Atomics.load(i32, userWordAddr(oh & 0xff, 2) >> 2) : 0;
    if (writer === 'type') {
      await other.terminate();
      return { churnBusy, otherFailed, otherWrites: 1 };
    }
    Atomics.store(i32, D_QUIT >> 2, 1);
    const otherWrites = (await other.join()) as number;
    return { churnBusy, otherFailed, otherWrites };
  } finally {
    await shutdown(rt);
  }
}

// The same rule, without a race to win: the second writer meets the first
// inside its write and holds (a test-build hook) before it judges it; then the
// first finishes and leaves (its slot FREE, or reused), or dies in the write.
for (const end of ['finished, slot FREE', 'finished, slot reused', 'died inside the write'] as const) {
  test(`Live writers are not dead writers: the writer met inside a write ${end} -> ${end.startsWith('died') ? 'E_BUSY' : 'the write goes through'}`, () =>
    within(20_000, async () => {
      const rt = await createRuntime({ capacity: 8, wasm: TESTING_WASM });
      try {
        const i32 = new Int32Array(rt.memory.buffer);
        const rec = 4;
        const seq = (RECORDS + rec * RECORD_SIZE) >> 2;
        const word = (RECORDS + rec * RECORD_SIZE + REC_WRITER) >> 2;
        const release = DIAG_SCRATCH + 840;
        const first = rt.core.register(77);
        const s = Atomics.load(i32, seq);
        // the first writer inside its write: the word names it, the sequence is odd
        Atomics.store(i32, word, first);
        Atomics.store(i32, seq, s + 1);
        const second = rt.spawn(job('met-writer'), { rec, value: 5, release });
        await waitFor(() => Atomics.load(i32, (release + 4) >> 2) === 1, 10_000, 'the second writer to meet the first');
        if (end.startsWith('died')) {
          assert.is(rt.core.mark_dead(first), 0);
        } else {
          Atomics.store(i32, seq, s + 2);
          Atomics.store(i32, word, 0);
          Atomics.notify(i32, word);
          assert.is(rt.core.unregister(first), 0);
          if (end.endsWith('reused')) assert.is(rt.core.register(78) & 0xff, first & 0xff, 'the slot is reused');
        }
        Atomics.store(i32, release >> 2, 1);
        Atomics.notify(i32, release >> 2);
        const r = await second.join();
        if (end.startsWith('died')) {
          assert.is(r, E.E_BUSY, 'a writer that died inside its write is dead');
        } else {
          assert.is(r, 0, 'a finished write is not a dead writer');
          const dst = rt.core.heap_base();
          assert.is(rt.core.record_read(rec, 0, dst, 1), 0);
          assert.is(i32[dst >> 2], 5, 'the second write went through');
        }
      } finally {
        await shutdown(rt);
      }
    }));
}

for (const writer of ['cache', 'record', 'type'] as const) {
  test(`Live writers are not dead writers (${writer}): register, write once, unregister in a loop against a non-stop writer: 0 E_BUSY`, () =>
    within(60_000, async () => {
      const r = await churnAgainstNonStopWriter({ writer });
      assert.is(r.churnBusy, 0, 'the churning writer never got E_BUSY');
      assert.is(r.otherFailed, 0, 'the non-stop writer never got E_BUSY');
      assert.ok(r.otherWrites > 0, `the non-stop writer wrote (${r.otherWrites})`);
    }));
}

test.run();
