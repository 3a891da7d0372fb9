// The browser adapter's wait relay (Platform.startWaitRelay, for host/wait.ts
// where Atomics.waitAsync is missing): blocks in Atomics.wait (allowed in a
// worker) and posts when the word changed or the wait timed out. One wait at a
// time per relay.
interface WaitRequest { buffer: SharedArrayBuffer; index: number; value: number; ms: number }

self.onmessage = (e: MessageEvent<WaitRequest>) => {
  const { buffer, index, value, ms } = e.data;
  Atomics.wait(new Int32Array(buffer), index, value, ms);
  self.postMessage(0);
};
