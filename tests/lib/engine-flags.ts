// Preloaded by tests/run.ts into every test file's process (node --import):
// the suite runs with the tiering the project's commands use on this engine.
import { applyEngineFlags } from '../../host/node/engine.js';

applyEngineFlags();
