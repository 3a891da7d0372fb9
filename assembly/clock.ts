// Time comes from the host: Wasm has no clock. Only differences taken on one
// thread are used (deadlines, latencies), so a per-thread origin is fine.

// @ts-ignore: decorator
@external("env", "now_ms")
export declare function nowMs(): f64;

// @ts-ignore: decorator
@inline export function msToNs(ms: f64): u64 {
  return ms <= 0 ? 0 : <u64>(ms * 1e6);
}
