// The host-API fuzz on a worker: random calls on its ThreadContext (and the
// Mutex and CacheEntry handles it makes), valid and hostile arguments, every
// blocking call bounded. Returns what it saw; `bad` lists every outcome that
// was not a return or a documented typed error.
import type { ThreadContext } from '../../host/worker.js';
import { HOSTILE, HOSTILE_OPTIONS, rng, undocumented } from '../lib/fuzz-support.js';

interface Data { seed: number; calls: number; locks: number[] }

export default function hostFuzzWorker(ctx: ThreadContext): { calls: number; errors: Record<string, number>; bad: string[] } {
  const d = ctx.data as Data;
  const R = rng(d.seed);
  const errors: Record<string, number> = {};
  const bad: string[] = [];
  const any = (good: unknown): unknown => (R.int(4) === 0 ? R.pick(HOSTILE) : good);
  const lockId = () => any(R.pick([0, ...d.locks, 255, 256])) as number;
  const bounded = () => (R.int(4) === 0 ? R.pick(HOSTILE_OPTIONS) : { timeoutMs: R.pick([0, 1, 5, 20]) }) as { timeoutMs: number };
  const ops: [string, () => unknown][] = [
    ['poll', () => ctx.poll()],
    ['attach', () => ctx.attach()],
    ['detach', () => ctx.detach()],
    ['allowThreads', () => ctx.allowThreads(any(() => 1) as () => number)],
    ['stop/start', () => { ctx.stopTheWorld(bounded()); ctx.startTheWorld(); }],
    ['startTheWorld', () => ctx.startTheWorld()],
    ['withWorldStopped', () => ctx.withWorldStopped(() => ctx.stragglers(), bounded())],
    ['stragglers', () => ctx.stragglers()],
    ['state', () => ctx.state],
    ['isLive', () => ctx.isLive(any(ctx.handle) as number)],
    ['lock/unlock', () => { const m = ctx.mutex(lockId()); m.lock(bounded()); m.unlock(); }],
    ['tryLock', () => { const m = ctx.mutex(lockId()); if (m.tryLock()) m.unlock(); }],
    ['unlock', () => ctx.mutex(lockId()).unlock()],
    ['consistent', () => ctx.mutex(lockId()).consistent()],
    ['owner', () => ctx.mutex(lockId()).owner],
    ['cache write', () => ctx.cache(any(R.int(4096)) as number).write(any(R.int(9) + 1) as number, any(1) as number, any(R.int(100)) as number)],
    ['cache read', () => ctx.cache(any(R.int(4096)) as number).read(any(R.int(9)) as number, any(1) as number)],
    ['cache invalidate', () => ctx.cache(any(R.int(4096)) as number).invalidate()],
    ['unlockImport', () => ctx.unlockImport()],
    ['spawn (hostile)', () => ctx.spawn(R.pick(HOSTILE) as string)],
  ];
  let calls = 0;
  for (; calls < d.calls && !ctx.closing; calls++) {
    const [name, op] = R.pick(ops);
    try {
      op();
    } catch (e) {
      const why = undocumented(e);
      if (why) bad.push(`worker seed ${d.seed} call ${calls} ${name}: ${why}`);
      else {
        const code = (e as { code: string }).code;
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
    if (ctx.attached) ctx.poll();
  }
  if (ctx.attached) ctx.detach();
  return { calls, errors, bad };
}
