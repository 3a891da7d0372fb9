// A threaded Lua process on the runtime (docs/LUA.md, "Threads"): lua.wasm is
// a program on the pthread layer (vms/posix/host/process.ts), so every Lua
// thread, the one running lua.c's main included, is a layer thread on its own
// worker, and os.fork is the layer's fork. What is Lua's own here: the process
// as the Lua host shows it, the capture of its output, and the stop-the-world
// that first asks threads in loops that never allocate for a safe point.
import type { Runtime } from '../../../host/runtime.js';
import type { RegisteredThread } from '../../../host/thread.js';
import type { LuaExports } from './lua-exports.js';

/** Records exit `code` for the whole process (the first exit wins). */
export function recordExit(exitCell: SharedArrayBuffer, code: number): void {
  const cell = new Int32Array(exitCell);
  Atomics.compareExchange(cell, 0, 0, code + 1);
  Atomics.notify(cell, 0);
}

const CAPTURE_HEADER = 8;
/** A capture buffer of `bytes` for a process's output (PosixProcessOptions.capture). */
export function newCapture(bytes = 1 << 20): SharedArrayBuffer {
  return new SharedArrayBuffer(CAPTURE_HEADER + bytes);
}
/** Appends `bytes` (any thread; writers never overlap). */
export function appendCapture(capture: SharedArrayBuffer, bytes: Uint8Array): void {
  const len = new Int32Array(capture, 0, 1);
  const at = Atomics.add(len, 0, bytes.length);
  const room = capture.byteLength - CAPTURE_HEADER;
  if (at >= room) return;
  new Uint8Array(capture, CAPTURE_HEADER + at, Math.min(bytes.length, room - at)).set(bytes.subarray(0, room - at));
}
/** Bytes appended so far. */
export function captureLength(capture: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(capture, 0, 1), 0);
}
export function captureText(capture: SharedArrayBuffer): string {
  const n = Math.min(captureLength(capture), capture.byteLength - CAPTURE_HEADER);
  return new TextDecoder().decode(new Uint8Array(capture, CAPTURE_HEADER, n).slice());
}

/**
 * Stops the world of a Lua process from `thread` (the host's main, or any registered thread): threads in loops that
 * never allocate are asked to reach a safe point first (lwtc_interrupt). Start it again with thread.startTheWorld().
 */
export function stopLuaWorld(host: LuaExports, thread: RegisteredThread, timeoutMs?: number): void {
  host.lwtc_interrupt(thread.handle, 1);
  try {
    thread.stopTheWorld(timeoutMs === undefined ? undefined : { timeoutMs });
  } finally {
    host.lwtc_interrupt(thread.handle, 0);
  }
}

export interface LuaProcess {
  rt: Runtime;
  /** lua.wasm on the host's thread: only for lwtc_interrupt (stopLuaWorld); it never runs Lua. */
  host: { lua: LuaExports };
  /** Resolves with the exit status. */
  status: Promise<number>;
  /** Ends the process from the host, as a signal would (PosixProcess.kill). */
  kill(code?: number): void;
}
