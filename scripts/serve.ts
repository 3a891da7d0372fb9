// `npm run serve [-- --port N]`: serves the repository cross-origin isolated
// and prints the URLs of its pages, for a person to run by hand: the live
// stress harness, Lua and Python with threads (it also serves web/blank.html
// for one's own experiments).
import { startServer } from './coi-server.js';
import { arg, parseArgs } from './args.js';

const opts = parseArgs(process.argv.slice(2), { port: arg(8080, 'port to listen on'), host: arg('127.0.0.1', 'address to listen on') },
  'npm run serve --', 'serves this checkout cross-origin isolated (the live stress harness, the Lua and Python pages)');
const server = await startServer(opts.port, opts.host);
console.log(`pages:          ${server.url}web/`);
console.log(`stress harness: ${server.url}web/harness.html?threads=2&duration=30`);
console.log(`Lua:            ${server.url}web/lua.html`);
console.log(`Python:         ${server.url}web/python.html`);
console.log('(add auto=1 to the query to start on load; Ctrl-C stops the server)');
