// The master process of webhook-burst.ts: serves the change hooks of the config in the
// given master directory (no worker), prints its HTTP port, and runs until killed.
import { Master } from '@lathe/master';
import { ApiServer } from '@lathe/master/http';

const [basedir] = process.argv.slice(2);
const master = await Master.start({
  basedir: basedir!,
  name: 'bench-hooks',
  onError: (e) => console.error(e),
});
const http = new ApiServer();
await http.start(master);
process.stdout.write(`${JSON.stringify({ port: http.port })}\n`);
setInterval(() => {}, 60_000);
