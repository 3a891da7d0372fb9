// The core's exports, as a module linked against it imports them: module
// "core", the names and signatures of docs/ABI.md. The reference VM and the
// diagnostics use the core only through these and the documented slot word.

// @ts-ignore: decorator
@external("core", "attach") export declare function attach(h: i32): i32;
// @ts-ignore: decorator
@external("core", "detach") export declare function detach(h: i32): i32;
// @ts-ignore: decorator
@external("core", "poll") export declare function poll(h: i32): i32;
// @ts-ignore: decorator
@external("core", "lock_acquire") export declare function lockAcquire(h: i32, id: i32, timeoutMs: i32): i32;
// @ts-ignore: decorator
@external("core", "lock_release") export declare function lockRelease(h: i32, id: i32): i32;
// @ts-ignore: decorator
@external("core", "cache_read") export declare function cacheRead(index: i32, typeVersion: u32, metaVersion: u32): i64;
// @ts-ignore: decorator
@external("core", "cache_write") export declare function cacheWrite(h: i32, index: i32, typeVersion: u32, metaVersion: u32, value: u32): i32;
// @ts-ignore: decorator
@external("core", "record_fill") export declare function recordFill(h: i32, rec: i32, value: u32, n: i32): i32;
