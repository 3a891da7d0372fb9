// The browser entry point: createRuntime() with the page (or fork child) platform.
// Load dist/host/browser/index.js as a module from a cross-origin isolated page
// (COOP: same-origin, COEP: require-corp), so SharedArrayBuffer exists.
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { UnsupportedError } from '../errors.js';
import { pagePlatform } from './platform.js';

export function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
  if (typeof crossOriginIsolated !== 'undefined' && !crossOriginIsolated) {
    return Promise.reject(new UnsupportedError(
      'shared Wasm memory needs a cross-origin isolated page: serve it with ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp'));
  }
  return Runtime.create(pagePlatform, options);
}

export { browserPlatform, pagePlatform } from './platform.js';
export * from '../index.js';
