// Error codes returned by every export. Success is 0 (or a non-negative
// value documented per export); failures are negative and never trap.
// host/errors.ts maps each code to a typed error class; docs/ABI.md lists them.

export const OK: i32 = 0;
export const E_NOT_INIT: i32 = -1; // init() has not completed on this memory
export const E_ALREADY_INIT: i32 = -2; // init() on an initialised memory
export const E_ARG: i32 = -3; // an argument is out of its documented range
export const E_BAD_HANDLE: i32 = -4; // not a handle this registry ever issued
export const E_STALE: i32 = -5; // the handle's slot was freed or reused
export const E_STATE: i32 = -6; // the slot is not in a state this call accepts
export const E_FULL: i32 = -7; // no free slot / lock id
export const E_TIMEOUT: i32 = -8; // the deadline passed first
export const E_ALREADY: i32 = -9; // this thread already holds the stop
export const E_NOT_REQUESTER: i32 = -10; // start by a thread that did not stop
export const E_BAD_LOCK: i32 = -11; // lock id out of range or not created
export const E_NOT_OWNER: i32 = -12; // unlock by a thread that does not hold it
export const E_RECURSION: i32 = -13; // recursion depth would overflow
export const E_DEADLOCK: i32 = -14; // relocking a plain mutex one already holds
export const E_WOULD_BLOCK: i32 = -15; // try-lock found the lock held
export const E_BUSY: i32 = -16; // resource in use (destroying a held lock, …)
export const E_CORRUPT: i32 = -17; // memory does not hold this ABI's layout
export const E_OWNER_DEAD: i32 = -18; // acquired, but the previous owner died holding it: repair, then lock_consistent
export const E_NOT_RECOVERABLE: i32 = -19; // released after owner death without lock_consistent: unusable
