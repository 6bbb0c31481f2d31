// Run by change-hooks-crash.test.ts: a master (no worker) serving the change hooks of the
// config in the given master directory; prints its HTTP port, then waits to be killed.
import { ApiServer } from '../src/http/server.js';
import { startMaster } from './helpers.js';

const [basedir] = process.argv.slice(2);
const master = await startMaster({ basedir: basedir!, name: 'hook-crash', onError: () => {} });
const http = new ApiServer();
await http.start(master);
process.stdout.write(`${JSON.stringify({ port: http.port })}\n`);
setInterval(() => {}, 1000);
