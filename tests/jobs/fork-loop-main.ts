// A parent process for the trace test: `argv[2]` forks ('process' or
// 'thread' isolation) one after another, each child exiting at once and
// reaped before the next fork.
import { createRuntime } from '../../host/node/index.js';

const [isolation, forks] = [process.argv[2] as 'process' | 'thread', Number(process.argv[3])];
const rt = await createRuntime({ capacity: 4, fork: { continuation: new URL('../../scripts/jobs/fork-exit.js', import.meta.url), isolation } });
for (let i = 0; i < forks; i++) if (rt.waitpid(rt.fork().pid) !== 0) process.exitCode = 1;
await rt.close();
