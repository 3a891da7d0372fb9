// A page's compile of a program (or the core): fetched from the page's server,
// an HTTP error said as such rather than as a compile error of its body.

export async function fetchModule(url: string | URL): Promise<WebAssembly.Module> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${String(url)}: HTTP ${r.status}`);
  return WebAssembly.compile(await r.arrayBuffer());
}
