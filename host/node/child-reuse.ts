// What a recycled Node fork child checks and puts back between two children
// (docs/FORK.md, "Recycled children"). The memory, the instances and the
// runtime are new for every child (host/fork/child.ts); what outlives a child
// in its OS process or worker is the JavaScript around it, and the idle
// workers its threads ran on, kept for the next child's threads
// (host/worker-pool.ts hold; each checks its own jobs). So the carrier
// takes a baseline before each child and, once the child's runtime is closed
// and its continuation's `recycle` has released what it held:
// - refuses to carry on (the process or worker ends, as without recycling)
//   when the child left something it cannot take back: a handle keeping the
//   event loop alive (a timer, a socket, a worker), a file descriptor (an OS
//   process's own table; a worker shares its process's), a listener on
//   `process`;
// - puts back what it can: the environment, the working directory, the umask,
//   `process.exitCode`; a changed environment ends the kept workers, which
//   may have copied it.
import { readdirSync, readlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { activeResources, newResource } from './residue.js';

export interface Baseline {
  resources: Map<string, number>;
  fds: number;
  listeners: Map<string | symbol, number>;
}

// A worker's event loop opens an epoll, an eventfd and a pipe pair, and the workers of a child's threads are kept for
// the next child (host/worker-pool.ts hold): those kinds are the carrier's. A pipe a child opens through Node is an
// active handle, which the resources check sees.
const EVENT_LOOP_FD = /^(anon_inode:|pipe:)/;

// The process's open descriptors but event loops' (Linux's /proc; elsewhere, and in a worker, not checked: −1).
function openFds(): number {
  if (!isMainThread) return -1;
  try {
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue; // closed since the listing: the directory's own descriptor
      }
      if (!EVENT_LOOP_FD.test(target)) n++;
    }
    return n;
  } catch {
    return -1;
  }
}

function listenerCounts(): Map<string | symbol, number> {
  return new Map(process.eventNames().map((n) => [n, process.listenerCount(n)]));
}

/** The state a child of this carrier finds: taken once, put back after every child. */
export class CarrierState {
  readonly #env = { ...process.env };
  readonly #cwd = process.cwd();
  readonly #umask = isMainThread ? process.umask() : undefined;

  constructor() {
    // A worker a child starts pipes its stdio into the process's stdout and stderr, which Node opens on first use
    // (as pipes: active handles) and keeps for the process's life: opened now, they are the carrier's, in every baseline.
    if (isMainThread) void [process.stdout, process.stderr];
  }

  /** Taken as a child is handed over, before its continuation runs. */
  baseline(): Baseline {
    return { resources: activeResources(), fds: openFds(), listeners: listenerCounts() };
  }

  /** What the child left behind that recycling cannot take back, or undefined. */
  leftBehind(b: Baseline): string | undefined {
    const resource = newResource(b.resources);
    if (resource) return resource;
    const fds = openFds();
    if (fds > b.fds && b.fds >= 0) return `${fds - b.fds} open file descriptor(s)`;
    for (const [name, n] of listenerCounts()) {
      if (n > (b.listeners.get(name) ?? 0)) return `a process '${String(name)}' listener`;
    }
    return undefined;
  }

  /**
   * Puts back the environment, the working directory, the umask and the exit code. Returns whether the child had
   * changed the environment: a worker started since has a copy of the child's.
   */
  restore(): boolean {
    let changed = false;
    for (const k of Object.keys(process.env)) if (!(k in this.#env)) { delete process.env[k]; changed = true; }
    for (const [k, v] of Object.entries(this.#env)) if (process.env[k] !== v) { process.env[k] = v; changed = true; }
    if (isMainThread) {
      if (process.cwd() !== this.#cwd) process.chdir(this.#cwd);
      process.umask(this.#umask!);
    }
    process.exitCode = undefined;
    return changed;
  }
}
