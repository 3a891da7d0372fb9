// WebAssembly.compile that holds its event loop open until the module is
// compiled. Node does not count a pending compile as work (nodejs/node#36616):
// when the compile has background work left — a function compiled by TurboFan
// up front (host/node/engine.ts) — and nothing else is pending, the process
// exits with the promise unsettled. A timer is pending work everywhere, and in
// a page it costs nothing.

/** Compiles `bytes` asynchronously, as WebAssembly.compile, with the event loop held open meanwhile. */
export async function compileWasm(bytes: BufferSource): Promise<WebAssembly.Module> {
  const hold = setInterval(() => {}, 2 ** 30);
  try {
    return await WebAssembly.compile(bytes);
  } finally {
    clearInterval(hold);
  }
}
