// The fork service: the runtime's side of whatever turns a staged snapshot
// into a running child. Its lifecycle — start, pool, death, shutdown — sits
// behind ForkService, so a platform can bring its own (Node: a server thread
// that owns child processes; a browser: a worker group over a fresh memory).
import { ForkError, ForkServerError, UnsupportedError } from '../errors.js';
import type { ForkServerInit, PlatformWorker } from '../platform-worker.js';
import {
  CTL_COLD_FORKS, CTL_RECYCLED_FORKS, CTL_POOL_READY, CTL_SEQ, CTL_SERVER, CTL_SHUTDOWN, CTL_STATE, SERVER_GONE, SERVER_NONE, SHUTDOWN_KILL, SHUTDOWN_WAIT, SERVER_READY, SERVER_STARTING,
  controlWords, createControl, procRunning, serverGone, waitWordAsync, type ForkControl,
} from './protocol.js';
import { forkChildOptions, type ChildrenAtClose, type ResolvedFork, type ResolvedOptions } from '../options.js';

/** What a fork service asks of a platform (host/platform.ts Platform has it). */
export interface ForkPlatform {
  startForkServer?(init: ForkServerInit): PlatformWorker;
  createForkService?(init: Omit<ForkServerInit, 'control'>, control: ForkControl): ForkService;
}

/** The fork service for a runtime: the platform's own, or a WorkerForkService. */
export function forkServiceFor(
  platform: ForkPlatform, memory: WebAssembly.Memory, rt: ResolvedOptions & { fork: ResolvedFork },
): ForkService {
  const control = createControl(rt.maximumPages);
  const init = { memory, maximumPages: rt.maximumPages, execPath: rt.fork.execPath, child: forkChildOptions(rt) };
  return platform.createForkService?.(init, control) ?? new WorkerForkService(platform, init, control);
}

/** What the fork server counted. */
export interface ForkStats {
  /** Requests posted to the server. */
  forks: number;
  /** Forks that waited for their child (none was warm in the pool): it was spawned for them or still warming up. */
  coldForks: number;
  /** Forks served by a recycled child: a process or worker group that had run an earlier child (docs/FORK.md). */
  recycledForks: number;
  /** Warm children waiting in the pool now. */
  poolReady: number;
  /** The fork server: 'none' until the first fork (or forkPoolReady) starts it. */
  server: 'none' | 'starting' | 'ready' | 'gone';
}

const SERVER_STATES = { [SERVER_NONE]: 'none', [SERVER_STARTING]: 'starting', [SERVER_READY]: 'ready', [SERVER_GONE]: 'gone' } as const;

/** ForkStats from a control block. */
export const forkStatsOf = (ctl: Int32Array): ForkStats => ({
  forks: Atomics.load(ctl, CTL_SEQ),
  coldForks: Atomics.load(ctl, CTL_COLD_FORKS),
  recycledForks: Atomics.load(ctl, CTL_RECYCLED_FORKS),
  poolReady: Atomics.load(ctl, CTL_POOL_READY),
  server: SERVER_STATES[Atomics.load(ctl, CTL_SERVER) as keyof typeof SERVER_STATES],
});

export interface ForkService {
  /** The control block every forking thread of this runtime shares. */
  readonly control: ForkControl;
  /** Starts the server, or restarts it after its death; returns at once (readiness is in the control block). */
  ensure(): void;
  /** Resolves once the server is ready. */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves when the warm pool holds `n` children. */
  poolReady(n: number, timeoutMs?: number): Promise<void>;
  /** Pids of children still running. */
  running(): number[];
  /** Counters of the fork server (since the runtime started). */
  stats(): ForkStats;
  /** Ends the server after the pool is reaped; running children are waited for or killed. */
  shutdown(children: ChildrenAtClose): Promise<void>;
}

const READY_MS = 60_000;
const STOP_GRACE_MS = 10_000;
// a server that keeps dying is not restarted in a loop
const RESTARTS = 5;
const RESTART_WINDOW_MS = 10_000;

/** A fork service whose server is a platform worker (host/node/fork-server.ts on Node). */
export class WorkerForkService implements ForkService {
  readonly #ctl: Int32Array;
  #server?: PlatformWorker;
  #exited?: Promise<void>;
  #failure: unknown;
  #restarts: number[] = [];
  #closing = false;

  constructor(private readonly platform: ForkPlatform, private readonly init: Omit<ForkServerInit, 'control'>, readonly control: ForkControl) {
    if (!platform.startForkServer) throw new UnsupportedError('fork needs a platform with processes');
    this.#ctl = controlWords(control);
  }

  ensure(): void {
    if (this.#closing) return;
    if (this.#server && Atomics.load(this.#ctl, CTL_SERVER) !== SERVER_GONE) return;
    const now = performance.now();
    this.#restarts = this.#restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.#restarts.length >= RESTARTS) return;
    this.#restarts.push(now);
    Atomics.store(this.#ctl, CTL_SERVER, SERVER_STARTING);
    Atomics.store(this.#ctl, CTL_POOL_READY, 0);
    const server = this.platform.startForkServer!({ ...this.init, control: this.control });
    this.#server = server;
    this.#failure = undefined;
    server.onError((e) => { this.#failure = e; });
    this.#exited = new Promise((resolve) => server.onExit(() => {
      // A server gone mid-request must not leave a forking thread waiting.
      if (this.#server === server) {
        serverGone(this.#ctl, `the fork server exited${this.#failure instanceof Error ? `: ${this.#failure.message}` : ''}`);
        if (!this.#closing) this.ensure();
      }
      resolve();
    }));
  }

  async ready(timeoutMs = READY_MS): Promise<void> {
    this.ensure();
    const end = performance.now() + timeoutMs;
    for (let s = Atomics.load(this.#ctl, CTL_SERVER); s !== SERVER_READY; s = Atomics.load(this.#ctl, CTL_SERVER)) {
      if (performance.now() > end || (s === SERVER_GONE && this.#failure)) {
        const f = this.#failure;
        throw Object.assign(new ForkServerError(`the fork server did not start: ${f instanceof Error ? f.message : 'timeout'}`), { cause: f });
      }
      await waitWordAsync(this.#ctl, CTL_SERVER, s, 50);
    }
  }

  async poolReady(n: number, timeoutMs = 30_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    // a server that cannot start is a ForkServerError here, not a pool that never fills
    await this.ready(timeoutMs);
    for (;;) {
      const have = Atomics.load(this.#ctl, CTL_POOL_READY);
      if (have >= n) return;
      if (performance.now() > end) throw new ForkError('E_FORK', `fork pool holds ${have} of ${n} children after ${timeoutMs} ms`);
      await waitWordAsync(this.#ctl, CTL_POOL_READY, have, 50);
    }
  }

  running(): number[] {
    return procRunning(this.#ctl);
  }

  stats(): ForkStats {
    return forkStatsOf(this.#ctl);
  }

  async shutdown(children: ChildrenAtClose): Promise<void> {
    this.#closing = true;
    const server = this.#server;
    if (!server) return;
    Atomics.store(this.#ctl, CTL_SHUTDOWN, children === 'kill' ? SHUTDOWN_KILL : SHUTDOWN_WAIT);
    Atomics.notify(this.#ctl, CTL_STATE);
    if (children === 'wait') {
      // the server exits once its running children have; a live child is
      // waited for as long as it runs (the timer keeps this event loop alive:
      // the server thread does not)
      const alive = setInterval(() => {}, 1000);
      try {
        await this.#exited;
      } finally {
        clearInterval(alive);
      }
    } else {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.#exited, new Promise((r) => { timer = setTimeout(r, STOP_GRACE_MS); })]);
      clearTimeout(timer);
    }
    await server.terminate();
    serverGone(this.#ctl, 'the runtime is closed');
  }
}
