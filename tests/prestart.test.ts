// A command's prestarted job worker (host/node/prestart.ts): it imports its
// job module before any runtime exists, the first job of the process's first
// runtime runs on it (the module not imported again), and a prestarted worker
// no runtime takes keeps nothing alive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { prestartWorker } from '../host/node/prestart.js';
import { createRuntime } from '../host/node/index.js';
import { waitFor, within } from './lib/helpers.js';
import { PRESTART_PROBE_CHANNEL } from './jobs/prestart-probe.js';

const PROBE = new URL('./jobs/prestart-probe.js', import.meta.url);
const PRESTART = new URL('../host/node/prestart.js', import.meta.url);
type Probe = { threadId: number; runs: number; n: number };

test('the first job runs on the prestarted worker, which imported the job module before its init', () => within(60_000, async () => {
  const channel = new BroadcastChannel(PRESTART_PROBE_CHANNEL);
  const imported: number[] = [];
  channel.onmessage = (e: MessageEvent<{ imported: number }>) => imported.push(e.data.imported);
  try {
    prestartWorker(PROBE);
    prestartWorker(PROBE); // a second call starts nothing
    await waitFor(() => imported.length === 1, 20_000, 'the prestarted worker to import the job module');
    const rt = await createRuntime({ capacity: 8 });
    try {
      const first = (await rt.spawn(PROBE, { n: 1 }).join()) as Probe;
      assert.is(first.threadId, imported[0], 'the job ran on the worker that imported the module before any runtime existed');
      assert.is(first.runs, 1, 'its import before the init was the job\'s');
      const [a, b] = await Promise.all([rt.spawn(PROBE, { n: 2 }), rt.spawn(PROBE, { n: 3 })].map((w) => w.join() as Promise<Probe>));
      assert.is.not(a.threadId, b.threadId, 'concurrent jobs run on workers of their own, as without a prestarted worker');
    } finally {
      await rt.close();
    }
  } finally {
    channel.close();
  }
}));

test('a prestarted worker that no runtime takes keeps nothing alive', () => within(30_000, async () => {
  const code = await new Promise<number | string>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', `(await import(${JSON.stringify(PRESTART.href)})).prestartWorker(); console.log('started');`],
      { timeout: 20_000 }, (err, stdout) => resolve(err ? `${err.message} (${String(err.signal)})` : stdout.trim()));
  });
  assert.is(code, 'started', 'the process ended on its own');
}));

test.run();
