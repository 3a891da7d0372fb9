// Time comes from the host: Wasm has no clock. Only differences taken on one
// thread are used (deadlines, latencies), so a per-thread origin is fine.
//
// The WASI build (asconfig.wasi.json, ASC_WASI) reads clock_time_get instead,
// which returns its result through memory. A shared scratch word would let two
// threads overwrite each other's reading between the call and the load, so
// each call claims one of CLOCK_CELL_COUNT cells by CAS (0 → 1), lets WASI
// write there, reads it, and frees it (→ 0).
// Invariant: between its claim and its release a cell's value is written only
// by the claimant's clock_time_get, so the value read is the claimant's own.
// A thread that dies inside the call leaks its cell; the next caller moves on
// to the next cell, and with all cells held it spins until one is freed.

import { CLOCK_CELLS, CLOCK_CELL_COUNT, CLOCK_CELL_SIZE } from "./layout";

// @ts-ignore: decorator
@external("env", "now_ms")
declare function hostNowMs(): f64;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
declare function wasiClockTimeGet(id: u32, precision: u64, time: usize): u16;

const WASI_CLOCK_MONOTONIC: u32 = 1;

function wasiNowMs(): f64 {
  let i = 0;
  while (true) {
    const cell = CLOCK_CELLS + (<usize>i) * CLOCK_CELL_SIZE;
    if (atomic.cmpxchg<u32>(cell, 0, 1) == 0) {
      const err = wasiClockTimeGet(WASI_CLOCK_MONOTONIC, 1, cell + 8);
      const ns = atomic.load<u64>(cell + 8);
      atomic.store<u32>(cell, 0);
      // a host without a monotonic clock: time stands still and deadlines
      // never pass, which blocking callers bound with their own timeouts
      return err != 0 ? 0 : <f64>ns / 1e6;
    }
    i = i + 1 == CLOCK_CELL_COUNT ? 0 : i + 1;
  }
}

// @ts-ignore: decorator
@inline export function nowMs(): f64 {
  // @ts-ignore: compile-time constant of the WASI build
  if (isDefined(ASC_WASI)) return wasiNowMs();
  return hostNowMs();
}

// @ts-ignore: decorator
@inline export function msToNs(ms: f64): u64 {
  return ms <= 0 ? 0 : <u64>(ms * 1e6);
}
