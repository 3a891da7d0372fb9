// A static file server for the browser host: every response carries the
// headers that make a page cross-origin isolated (so SharedArrayBuffer and
// shared Wasm memory exist), worker scripts included, since a worker under
// COEP must carry COEP itself. Serves the repository root: dist/, build/, web/.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVED = ['dist', 'build', 'web'];
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export interface CoiServer { url: string; close(): Promise<void> }

export interface CoiServerOptions {
  /**
   * The tree does not change while the server runs (a test's own server): the browser may keep every file for the
   * server's life, so the workers of one page load their modules, the library and the builds from its cache. The
   * default, for a person who rebuilds while `npm run serve` runs, is `no-store`. A server listens on a port of its
   * own and a test's browser starts with an empty profile, so nothing cached outlives the server.
   */
  immutable?: boolean;
}

export async function startServer(port = 0, host = '127.0.0.1', opts: CoiServerOptions = {}): Promise<CoiServer> {
  const caching = opts.immutable ? 'private, max-age=86400, immutable' : 'no-store';
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^[/\\]+/, '');
    const headers = { ...ISOLATION_HEADERS, 'Cache-Control': caching };
    if (!SERVED.some((d) => path === d || path.startsWith(d + sep)) || path.includes('..')) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    // a directory's URL (web/) serves its index.html
    const file = path.endsWith(sep) ? `${path}index.html` : path;
    try {
      const body = await readFile(ROOT + file);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${p}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
