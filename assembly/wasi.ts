// The WASI build's entry (asconfig.wasi.json): the core's ABI unchanged, its
// clock read from WASI clock_time_get (clock.ts), plus that clock as an export
// so a WASI host without its own monotonic clock can take the core's.

export * from "./index";

import { nowMs } from "./clock";

export function clock_ms(): f64 { return nowMs(); }
