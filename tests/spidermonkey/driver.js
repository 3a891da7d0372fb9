// The core and the C embedder under SpiderMonkey (the js102 shell), with
// shell workers (evalInWorker) over one shared memory handed across through
// setSharedObject/getSharedObject. Plain JS for the shell; spawned by
// tests/spidermonkey.test.ts, which reads the "ok"/"not ok" lines.
//
// usage: js102 tests/spidermonkey/driver.js <repository root>

const ROOT = scriptArgs[0];
const E = { NOT_INIT: -1, ALREADY_INIT: -2, ARG: -3, BAD_HANDLE: -4, STALE: -5, STATE: -6, FULL: -7, TIMEOUT: -8, NOT_REQUESTER: -10 };
const ST = { DETACHED: 2, ATTACHED: 3, SUSPENDED: 4, DEAD: 5, STOP: 0x10 };
const EMBED_GLOBAL_BASE = 0x20000;
let passed = 0;
let failed = 0;

function check(name, fn) {
  try {
    fn();
    print('ok - ' + name);
    passed++;
  } catch (e) {
    print('not ok - ' + name + ': ' + e + (e && e.stack ? '\n' + e.stack : ''));
    failed++;
  }
}
function eq(got, want, what) {
  if (got !== want) throw new Error(what + ': got ' + got + ', want ' + want);
}

// Shared with the workers as source text (they evaluate the same functions).
function helpers() {
  const read = (root, file) => os.file.readFile(root + '/build/' + file, 'binary');
  const align = (x, a) => Math.ceil(x / a) * a;
  function coreInstance(module, memory) {
    return new WebAssembly.Instance(module, { env: { memory, now_ms: () => performance.now() } }).exports;
  }
  // One thread's instance of the C module: its own stack (top of its area) and TLS block (bottom).
  function instantiateEmbedder(module, core, memory, plan, area) {
    const base = plan.areasBase + area * plan.areaSize;
    const top = base + plan.areaSize;
    const env = { memory, now_ms: () => performance.now() };
    if (plan.link === 'pie') {
      env.__memory_base = new WebAssembly.Global({ value: 'i32', mutable: false }, plan.memoryBase);
      env.__table_base = new WebAssembly.Global({ value: 'i32', mutable: false }, 0);
      env.__stack_pointer = new WebAssembly.Global({ value: 'i32', mutable: true }, top);
      // function pointers index a table of the instance's own (docs/EMBEDDING.md, "Position-independent")
      env.__indirect_function_table = new WebAssembly.Table({ element: 'anyfunc', initial: plan.tableSize });
    }
    const ex = new WebAssembly.Instance(module, { env, core }).exports;
    if (plan.link === 'fixed') ex.__stack_pointer.value = top;
    ex.__wasm_init_tls(align(base, Math.max(ex.__tls_align.value, 1)));
    return ex;
  }
  return { read, align, coreInstance, instantiateEmbedder };
}
const { read, align, coreInstance, instantiateEmbedder } = helpers();
const newMemory = () => new WebAssembly.Memory({ initial: 4, maximum: 4096, shared: true });
const coreModule = new WebAssembly.Module(read(ROOT, 'core.wasm'));

// dylink.0's mem info: data size, data alignment, table size
function dylinkMemInfo(module) {
  const bytes = new Uint8Array(WebAssembly.Module.customSections(module, 'dylink.0')[0]);
  let p = 0;
  const leb = () => { let v = 0, s = 0, b; do { b = bytes[p++]; v += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return v; };
  while (p < bytes.length) {
    const type = bytes[p++];
    const len = leb();
    if (type === 1) {
      const size = leb();
      leb();
      return { size, tableSize: leb() };
    }
    p += len;
  }
  return { size: 0, tableSize: 0 };
}

// ---- the core's state machine, one thread playing every role -----------------
check('before init every call refuses with E_NOT_INIT; bad capacities leave it uninitialised', () => {
  const core = coreInstance(coreModule, newMemory());
  eq(core.is_ready(), 0, 'is_ready');
  eq(core.register(1), E.NOT_INIT, 'register');
  eq(core.poll(0x100), E.NOT_INIT, 'poll');
  eq(core.stop(0x100, 10), E.NOT_INIT, 'stop');
  for (const bad of [0, -1, 257]) eq(core.init(bad), E.ARG, 'init(' + bad + ')');
  eq(core.init(4), 0, 'init');
  eq(core.init(4), E.ALREADY_INIT, 'init again');
  eq(core.capacity(), 4, 'capacity');
  if (core.heap_base() > EMBED_GLOBAL_BASE) throw new Error('heap_base above the embedders\' --global-base');
});

check('register fills the registry; a freed slot comes back with the next generation', () => {
  const core = coreInstance(coreModule, newMemory());
  core.init(3);
  const hs = [core.register(1), core.register(2), core.register(3)];
  eq(hs.map((h) => h & 0xff).join(), '0,1,2', 'indexes');
  eq(core.register(4), E.FULL, 'full');
  eq(core.unregister(hs[1]), 0, 'unregister');
  const again = core.register(5);
  eq(again & 0xff, 1, 'reused index');
  eq(again >>> 8, 2, 'next generation');
  eq(core.poll(hs[1]), E.STALE, 'stale poll');
  eq(core.attach(0), E.BAD_HANDLE, 'bad handle');
});

check('owner transitions: attach, detach, poll and what each refuses', () => {
  const core = coreInstance(coreModule, newMemory());
  core.init(4);
  const h = core.register(1);
  eq(core.poll(h), E.STATE, 'poll while detached');
  eq(core.detach(h), E.STATE, 'detach while detached');
  eq(core.attach(h), 0, 'attach');
  eq(core.thread_state(h), ST.ATTACHED, 'attached');
  eq(core.attach(h), E.STATE, 'attach twice');
  eq(core.poll(h), 0, 'poll');
  eq(core.unregister(h), E.STATE, 'unregister attached');
  eq(core.detach(h), 0, 'detach');
  eq(core.thread_state(h), ST.DETACHED, 'detached');
  eq(core.unregister(h), 0, 'unregister');
});

check('stop parks detached threads, flags attached ones, and start resumes both', () => {
  const core = coreInstance(coreModule, newMemory());
  core.init(4);
  const req = core.register(1);
  const parked = core.register(2);
  const running = core.register(3);
  core.attach(req);
  core.attach(running);
  // an attached thread that does not poll: the stop times out and restores the world
  eq(core.stop(req, 20), E.TIMEOUT, 'stop against a thread that never polls');
  eq(core.straggler_count(), 1, 'one straggler');
  eq(core.straggler(0), running, 'the straggler');
  eq(core.thread_state(running), ST.ATTACHED, 'restored');
  eq(core.thread_state(parked), ST.DETACHED, 'restored');
  // step by step: the detached thread is parked, the attached one flagged until it detaches
  eq(core.stop_try_begin(req), 0, 'stop_try_begin');
  eq(core.stop_step(req), 1, 'one pending');
  eq(core.thread_state(parked), ST.SUSPENDED, 'parked');
  eq(core.thread_state(running), ST.ATTACHED | ST.STOP, 'asked to stop');
  eq(core.detach(running), 0, 'detach with a stop pending suspends');
  eq(core.thread_state(running), ST.SUSPENDED, 'suspended');
  eq(core.stop_step(req), 0, 'world stopped');
  eq(core.is_stopped(), 1, 'is_stopped');
  eq(core.start(req), 0, 'start');
  eq(core.start(req), E.NOT_REQUESTER, 'start again');
  eq(core.thread_state(parked), ST.DETACHED, 'resumed');
  eq(core.thread_state(running), ST.DETACHED, 'resumed detached');
  eq(core.mark_dead(running), 0, 'mark_dead');
  eq(core.thread_state(running), ST.DEAD, 'dead');
});

// ---- the C embedder, main thread + shell workers -------------------------------
const WORKERS = 3;
const CYCLES = 20;
const AREA = 16 * 1024;

function embedderRun(link) {
  const file = link === 'pie' ? 'c-embedder.pie.wasm' : 'c-embedder.wasm';
  const cModule = new WebAssembly.Module(read(ROOT, file));
  const memory = newMemory();
  memory.grow(12);
  const core = coreInstance(coreModule, memory);
  let memoryBase, dataEnd;
  if (link === 'pie') {
    memoryBase = align(core.heap_base(), 16);
    dataEnd = memoryBase + dylinkMemInfo(cModule).size;
  } else {
    memoryBase = EMBED_GLOBAL_BASE;
    if (core.heap_base() > memoryBase) throw new Error('core data above --global-base');
    dataEnd = new WebAssembly.Instance(cModule, { env: { memory, now_ms: () => 0 }, core }).exports.__heap_base.value;
  }
  const areasBase = align(dataEnd, 16);
  const mailbox = areasBase + (WORKERS + 1) * AREA;
  const plan = { link, memoryBase, areasBase, areaSize: AREA, mailbox, file, root: ROOT, tableSize: link === 'pie' ? dylinkMemInfo(cModule).tableSize : 0 };
  if (mailbox + 64 > memory.buffer.byteLength) throw new Error('memory too small for the plan');
  const main = instantiateEmbedder(cModule, core, memory, plan, 0);
  eq(main.embed_setup(8), 0, 'setup');
  const i32 = new Int32Array(memory.buffer);
  const M = mailbox >> 2; // +0 next worker, then per worker: state (1 ready, 2 done), result, self
  setSharedObject(memory);
  for (let k = 0; k < WORKERS; k++) {
    evalInWorker(`
      const { read, coreInstance, instantiateEmbedder } = (${helpers})();
      const P = ${JSON.stringify(plan)};
      const memory = getSharedObject();
      const i32 = new Int32Array(memory.buffer);
      const M = P.mailbox >> 2;
      const k = Atomics.add(i32, M, 1);
      const core = coreInstance(new WebAssembly.Module(read(P.root, 'core.wasm')), memory);
      const c = instantiateEmbedder(new WebAssembly.Module(read(P.root, P.file)), core, memory, P, k + 1);
      Atomics.store(i32, M + 1 + 3 * k, 1);
      const r = c.embed_worker(100 + k);
      Atomics.store(i32, M + 2 + 3 * k, r);
      Atomics.store(i32, M + 3 + 3 * k, c.embed_self());
      Atomics.store(i32, M + 1 + 3 * k, 2);
      Atomics.notify(i32, M + 1 + 3 * k);
    `);
  }
  const waitState = (k, want, ms) => {
    const end = performance.now() + ms;
    for (;;) {
      const s = Atomics.load(i32, M + 1 + 3 * k);
      if (s >= want) return;
      const left = end - performance.now();
      if (left <= 0) throw new Error('worker ' + k + ' did not reach state ' + want + ' in ' + ms + ' ms');
      Atomics.wait(i32, M + 1 + 3 * k, s, Math.min(left, 100));
    }
  };
  for (let k = 0; k < WORKERS; k++) waitState(k, 1, 30000);
  // blocks this thread for the whole run; the checks of a stopped world are in C
  eq(main.embed_main(1000, WORKERS, CYCLES, 2000), CYCLES, 'cycles (negative: see embedder.c)');
  let sum = 0;
  const selves = new Set([main.embed_self()]);
  for (let k = 0; k < WORKERS; k++) {
    waitState(k, 2, 30000);
    const r = Atomics.load(i32, M + 2 + 3 * k);
    if (!(r > 0)) throw new Error('worker ' + k + ' returned ' + r);
    sum += r;
    selves.add(Atomics.load(i32, M + 3 + 3 * k));
  }
  eq(main.embed_total(), sum, 'the lock serialised every increment');
  eq(main.embed_dispatch(1, 21), 42, 'a call through a function pointer');
  eq(main.embed_dispatch(0, 0), main.embed_self(), 'a function pointer reaching TLS');
  eq(selves.size, WORKERS + 1, 'distinct handles in TLS');
  eq(core.is_ready(), 1, 'core still initialised after ' + (WORKERS + 2) + ' instances of the C module');
}

for (const link of ['fixed', 'pie']) {
  check('C embedder, ' + link + ' link: workers poll and lock; ' + CYCLES + ' stops find the world still, starts move it', () =>
    embedderRun(link));
}

print('done: ' + passed + ' passed, ' + failed + ' failed');
