// A parent process for the output test: forks once; the child prints
// argv[2] on stdout; the parent exits with the child's status.
import { createRuntime } from '../../host/node/index.js';

const rt = await createRuntime({ capacity: 4, fork: { continuation: new URL('./fork-child.js', import.meta.url), pool: 0 } });
const { pid } = rt.fork({ data: { say: process.argv[2] } });
const status = await rt.waitpidAsync(pid);
await rt.close();
process.exitCode = status;
