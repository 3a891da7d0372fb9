// A layer process's exit cell and the capture of its output (one buffer every
// thread appends to), for hosts and tests that read a process's output whole.
// Shared by every VM on the layer: nothing here knows a VM.

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
