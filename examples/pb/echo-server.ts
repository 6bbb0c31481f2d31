/**
 * A PB server anyone can poke at: its root object has `echo(x)`, which returns its
 * argument unchanged, and `add(a, b)`, which adds two numbers.
 *
 *   ./dev node examples/pb/echo-server.ts --port 8800
 *
 * Try it from Twisted (Debian's python3-twisted):
 *
 *   /usr/bin/python3 -c "
 *   from twisted.internet import reactor; from twisted.spread import pb
 *   f = pb.PBClientFactory(); reactor.connectTCP('127.0.0.1', 8800, f)
 *   d = f.getRootObject()
 *   d.addCallback(lambda root: root.callRemote('add', 2, 3))
 *   d.addBoth(print).addBoth(lambda _: reactor.stop()); reactor.run()"
 */
import { parseArgs } from 'node:util';
import { listen, PyFloat, Referenceable } from '@lathe/pb';

const isFloat = (x: unknown) => x instanceof PyFloat || (typeof x === 'number' && !Number.isInteger(x));

class EchoRoot extends Referenceable {
  remote_echo(x: unknown): unknown {
    return x;
  }
  /** Adds like Python: int + int stays an int (arbitrarily large), anything with a float is a float. */
  remote_add(a: unknown, b: unknown): unknown {
    const numeric = (x: unknown) => typeof x === 'number' || typeof x === 'bigint' || x instanceof PyFloat;
    if (!numeric(a) || !numeric(b)) throw new TypeError('add takes two numbers');
    if (isFloat(a) || isFloat(b)) {
      const sum = Number(a) + Number(b);
      return Number.isInteger(sum) ? new PyFloat(sum) : sum;
    }
    return typeof a === 'bigint' || typeof b === 'bigint'
      ? BigInt(a as number) + BigInt(b as number)
      : (a as number) + (b as number);
  }
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8800' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: echo-server [--port N] [--host ADDR]   (port 0 picks a free one)');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`echo-server: --port must be a number from 0 to 65535, not ${JSON.stringify(values.port)}`);
  process.exit(2);
}

const server = await listen({ port, host: values.host, root: new EchoRoot() });
console.log(`PB echo server listening on ${values.host}:${server.port}`);
process.on('SIGINT', () => void server.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
