// build/core.testing.wasm: the core's ABI plus hooks that stop a thread inside
// a core call (assembly/testing.ts), for the tests that terminate a worker
// there. Never shipped.
import type { CoreExports } from '../../host/core.js';

export const TESTING_WASM = new URL('../../../build/core.testing.wasm', import.meta.url);

export interface TestingExports extends CoreExports {
  /** Stays inside a write of `value` into record `rec` until the word at `release` is non-zero. */
  test_record_hold(h: number, rec: number, value: number, release: number): number;
  /** Writes `value` into record `rec`; on meeting another write in progress, sets the word at `release + 4` and waits for `release` before judging its writer. */
  test_record_fill_met(h: number, rec: number, value: number, release: number): number;
  /** Registers, staying REGISTERING until the word at `release` is non-zero. */
  test_register_hold(tid: number, release: number): number;
}
