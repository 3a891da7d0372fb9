// Test hooks that must run inside the core, in a build of their own
// (asconfig.testing.json → build/core.testing.wasm) that is never shipped: a
// hook stops a thread at a point inside a core call so a death test can
// terminate it there. The ABI is re-exported unchanged.

export * from "./index";

import { DIAG_HOST_SCRATCH, DIAG_DATA } from "./layout";
import { E_ARG } from "./errors";
import { recordFill } from "./seqlock";
import { register } from "./registry";

// The release word must lie in the host scratch no module writes.
function releaseOk(addr: usize): bool {
  return addr >= DIAG_HOST_SCRATCH && addr + 4 <= DIAG_DATA && (addr & 3) == 0;
}

// Begins a write of `value` into record `rec` and stays inside it until the
// word at `release_addr` is non-zero; the record's sequence is odd meanwhile.
export function test_record_hold(h: i32, rec: i32, value: u32, release_addr: usize): i32 {
  return releaseOk(release_addr) ? recordFill(h, rec, value, 33, 0, release_addr) : E_ARG;
}

// Writes `value` into record `rec`; if it finds another writer's write in
// progress, it announces that (1 at `release_addr + 4`) and waits until the
// word at `release_addr` is non-zero before judging that writer.
export function test_record_fill_met(h: i32, rec: i32, value: u32, release_addr: usize): i32 {
  return releaseOk(release_addr) && releaseOk(release_addr + 4) ? recordFill(h, rec, value, 33, 0, 0, release_addr) : E_ARG;
}

// Registers, staying REGISTERING until the word at `release_addr` is non-zero.
export function test_register_hold(tid: i32, release_addr: usize): i32 {
  return releaseOk(release_addr) ? register(tid, release_addr) : E_ARG;
}
