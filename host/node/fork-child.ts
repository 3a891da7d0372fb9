// A fork child: compiles the core while it waits in the pool, then receives a
// snapshot, validates it, restores it into a new shared memory and continues
// as the forking thread: after-fork-child, the continuation's child hook,
// acknowledge, then the continuation itself. Exit codes: the continuation's
// result (a number) or 0; 65 for a bad snapshot; 70 for a failing continuation.
import { readFile } from 'node:fs/promises';
import { nodePlatform } from './platform.js';
import { Runtime } from '../runtime.js';
import { createSharedMemory, instantiateCore } from '../core.js';
import { compileLinked } from '../modules.js';
import { PAGE, checksum32, decodeSnapshot, encodeSnapshot } from '../fork-bridge.js';
import type { ForkChildOptions } from '../platform.js';
import { ForkError } from '../errors.js';

const EXIT_BAD_SNAPSHOT = 65;
const EXIT_CONTINUATION_FAILED = 70;

interface SnapshotMessage {
  type: 'snapshot';
  snapshot?: Uint8Array;
  path?: string;
  fault: string;
}

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

const { wasm, continuation } = JSON.parse(process.argv[2] ?? '{}') as { wasm?: string; continuation?: string };
const build = wasm === 'release' || wasm === 'debug' ? wasm : wasm ? new URL(wasm) : 'release';
const module = await WebAssembly.compile(await nodePlatform.loadWasm(build));
const linkedModules = await compileLinked(nodePlatform, build);
// Everything a fresh process would do cold after the snapshot arrives is done
// here, while the child waits in the pool: the first instantiation (where V8
// finishes compiling, ~100 ms), the snapshot decoder, the continuation's import.
{
  const scratch = createSharedMemory(4, 4);
  await instantiateCore(module, scratch);
  const { restore } = decodeSnapshot(encodeSnapshot(scratch.buffer, 4, 0, '{}'));
  restore(new ArrayBuffer(scratch.buffer.byteLength));
  if (continuation) await import(continuation);
}
let started = false;
// A pooled child whose parent went away has nothing to do.
process.on('disconnect', () => { if (!started) process.exit(0); });

process.once('message', (m: SnapshotMessage) => {
  started = true;
  void run(m).catch((e) => {
    console.error(`fork child: continuation failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(EXIT_CONTINUATION_FAILED);
  });
});
await send({ type: 'ready' });

async function run(m: SnapshotMessage): Promise<void> {
  if (m.fault === 'die-before-ack') process.exit(99);
  let bytes: Uint8Array = m.snapshot ?? (await readFile(m.path!));
  if (bytes.byteOffset % 4 !== 0) bytes = new Uint8Array(bytes); // word views need alignment
  let decoded: ReturnType<typeof decodeSnapshot>;
  try {
    decoded = decodeSnapshot(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`fork child: ${message}`);
    await send({ type: 'error', message });
    process.exit(EXIT_BAD_SNAPSHOT);
  }
  const { info } = decoded;
  const options = JSON.parse(info.options) as ForkChildOptions & { data: unknown; verify: boolean };
  const memory = new WebAssembly.Memory({ initial: info.memoryBytes / PAGE, maximum: info.maximumPages, shared: true });
  decoded.restore(memory.buffer);
  const restoredChecksum = options.verify ? checksum32(new Uint32Array(memory.buffer)) : undefined;
  const rt = await Runtime.adoptForkChild(nodePlatform, module, memory, info.handle, options, linkedModules);
  const cont = (await import(options.continuation)) as Record<string, unknown>;
  const fn = cont[options.exportName ?? 'default'];
  if (typeof fn !== 'function') throw new ForkError('E_FORK', `${options.continuation} exports no function ${options.exportName ?? 'default'}`);
  const ctx = { runtime: rt, thread: rt.main, result: 0, data: options.data, restoredChecksum };
  if (typeof cont.afterForkChild === 'function') await cont.afterForkChild(ctx);
  await send({ type: 'ack' });
  process.disconnect();
  const code = await fn(ctx);
  await rt.exit(typeof code === 'number' ? code : 0);
}
