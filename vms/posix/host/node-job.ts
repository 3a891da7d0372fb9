// The job module of every thread of a pthread-layer program under Node
// (thread-worker.ts), named in a file that imports nothing: a command names
// it to the worker it starts before it imports the host
// (host/node/prestart.ts), and the layer passes it to its runtime.

/** thread-worker.ts: main() and every thread of the program, a fork child's first thread included. */
export const POSIX_NODE_JOB = new URL('./thread-worker.js', import.meta.url);
