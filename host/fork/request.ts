// Fork options: what a caller may ask of one fork, checked before anything
// locks or stops.
import { DEFAULT_STOP_TIMEOUT_MS, deadlineMs } from '../options.js';
import { InvalidArgumentError } from '../errors.js';
import { FORK_DATA_MAX } from './protocol.js';

/** Points of the parent protocol a `probe` sees (a testing and measuring aid). */
export type ForkPhase = 'locked' | 'stopped' | 'copied' | 'started';

export interface ForkOptions {
  /** Deadline of the stop-the-world before the copy (default: the forking thread's, i.e. the runtime's stopTimeoutMs). */
  stopTimeoutMs?: number;
  /** How long to wait for the child's acknowledgement once it has the snapshot (default 10000 ms). */
  ackTimeoutMs?: number;
  /** Testing aid: called by the forking thread at each phase (a thread that dies here tests recovery). */
  probe?: (phase: ForkPhase) => void;
  /** Passed to the child's continuation as `ctx.data` (JSON, ≤ 1 KiB). */
  data?: unknown;
  /** Also checksum the whole memory; the child checks its restored copy against it. */
  verify?: boolean;
}

export interface PreparedRequest {
  stopTimeoutMs: number;
  ackTimeoutMs: number;
  verify: boolean;
  data: string;
  probe?: (phase: ForkPhase) => void;
}

export const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export function prepareRequest(opts: ForkOptions): PreparedRequest {
  const ms = (v: number | undefined, d: number, name: string): number => (v === undefined ? d : deadlineMs(v, name));
  if (opts.probe !== undefined && typeof opts.probe !== 'function') throw new InvalidArgumentError('probe must be a function');
  let data: string;
  try {
    data = JSON.stringify(opts.data ?? null);
  } catch (e) {
    throw new InvalidArgumentError(`fork data must be JSON-serialisable: ${e instanceof Error ? e.message : e}`);
  }
  if (new TextEncoder().encode(data).length > FORK_DATA_MAX) throw new InvalidArgumentError(`fork data exceeds ${FORK_DATA_MAX} bytes as JSON`);
  return {
    stopTimeoutMs: ms(opts.stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS, 'stopTimeoutMs'),
    ackTimeoutMs: ms(opts.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, 'ackTimeoutMs'),
    verify: opts.verify === true,
    data,
    probe: opts.probe,
  };
}
