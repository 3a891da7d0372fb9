// The Node entry point: createRuntime() with the Node platform.
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { nodePlatform } from './platform.js';

export function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
  return Runtime.create(nodePlatform, options);
}

export * from '../index.js';
export { applyEngineFlags, engineFlags, liftoffMiscompilesWait, vmEngineUse, type EngineUse } from './engine.js';
