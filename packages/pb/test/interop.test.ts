/**
 * Live interop with real Twisted PB (Debian's python3-twisted), both directions:
 * a Twisted client against a Lathe server, and a Lathe client against a Twisted server.
 * The Twisted side is packages/pb/test/twisted/pbpeer.py.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AnonymousChecker,
  Avatar,
  type Broker,
  ConnectionLostError,
  connect,
  kwargs,
  listen,
  PasswordChecker,
  type PBConnection,
  type PBServer,
  Portal,
  PortalRoot,
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyFrozenSet,
  PyTimedelta,
  RemoteError,
  RemoteReference,
  referenceable,
  tuple,
} from '../src/index.js';
import { Counter, RemoteCounter, RemoteThing, Thing } from './pbtypes.js';
import {
  runTwistedClient,
  startTwistedServer,
  TWISTED_CLIENT_SCENARIOS,
  type TwistedServer,
} from './twisted/peer.js';

const isFloat = (x: unknown) => x instanceof PyFloat || (typeof x === 'number' && !Number.isInteger(x));

/** The root the Twisted client scenarios expect: calc methods plus a cred login. */
class InteropRoot extends PortalRoot {
  static counter = new Counter();
  remote_echo(x: unknown) {
    return x;
  }
  remote_add(a: unknown, b: unknown) {
    if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as number) + BigInt(b as number);
    const sum = Number(a) + Number(b);
    return isFloat(a) || isFloat(b) ? (Number.isInteger(sum) ? new PyFloat(sum) : sum) : sum;
  }
  remote_fail() {
    throw new Error('deliberate failure');
  }
  remote_callMeBack(ref: RemoteReference, v: unknown) {
    return ref.callRemote('ping', v);
  }
  remote_getThing() {
    return new Thing('widget', [1, 2, 3]);
  }
  remote_getCounter() {
    return InteropRoot.counter;
  }
  remote_bump() {
    return InteropRoot.counter.bump();
  }
}

class User extends Avatar {
  constructor(readonly id: unknown) {
    super();
  }
  perspective_whoami() {
    return this.id;
  }
}

describe('Twisted client → Lathe server', () => {
  let server: PBServer;
  before(async () => {
    const portal = new Portal({ requestAvatar: (id) => ({ avatar: new User(id) }) }, [
      new PasswordChecker({ alice: 'wonderland' }),
      new AnonymousChecker(),
    ]);
    server = await listen({ port: 0, root: (broker: Broker) => new InteropRoot(portal, broker) });
  });
  after(() => server.close());

  for (const scenario of TWISTED_CLIENT_SCENARIOS) {
    it(`scenario ${scenario}`, { timeout: 120_000 }, async () => {
      const { checks, code, stderr } = await runTwistedClient(server.port, scenario);
      const failed = checks.filter((c) => !c.ok);
      assert.deepEqual(failed, [], stderr);
      assert.ok(checks.length > 0, 'the scenario ran checks');
      assert.equal(code, 0, stderr);
    });
  }
});

describe('Lathe client → Twisted server', () => {
  let twisted: TwistedServer;
  let conn: PBConnection;
  let avatar: RemoteReference;
  let calc: RemoteReference;
  const mindCalls: unknown[] = [];
  before(async () => {
    twisted = await startTwistedServer();
    conn = await connect({ host: '127.0.0.1', port: twisted.port });
    const mind = referenceable({
      notify: (msg: unknown) => {
        mindCalls.push(msg);
        return 'noted';
      },
    });
    avatar = await conn.login('alice', 'wonderland', mind);
    calc = await avatar.callRemote<RemoteReference>('getCalc');
  });
  after(async () => {
    conn?.close();
    await twisted?.stop();
  });

  it('logs in, calls perspective methods and is called back through the mind', async () => {
    assert.deepEqual(await avatar.callRemote('whoami'), Buffer.from('alice'));
    assert.equal(await avatar.callRemote('notifyMe'), 'noted');
    assert.deepEqual(mindCalls, ['hello mind']);
  });

  it('receives every Jelly type from Python and sends it back unchanged', async () => {
    const kinds = await calc.callRemote<string[]>('kinds');
    assert.ok(kinds.length > 50);
    for (const kind of kinds) {
      const value = await calc.callRemote('make', kind);
      const expected = await calc.callRemote<string>('describeKind', kind);
      assert.equal(await calc.callRemote('describe', value), expected, `kind ${kind}`);
    }
  });

  it('answers Python calls with every Jelly type unchanged (Python → Lathe → Python)', async () => {
    const pinger = referenceable({ ping: (v: unknown) => v });
    const kinds = await calc.callRemote<string[]>('kinds');
    for (const kind of kinds) {
      const expected = await calc.callRemote<string>('describeKind', kind);
      assert.equal(await calc.callRemote('callWithKind', pinger, kind), expected, `kind ${kind}`);
    }
  });

  it('sends JavaScript values as the documented Python types', async () => {
    const shared = { x: 1 };
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    const cases: Array<[unknown, string]> = [
      [null, 'NoneType:None'],
      [true, 'bool:True'],
      [7, 'int:7'],
      [new PyFloat(1), 'float:1.0'],
      [2.5, 'float:2.5'],
      [2n ** 70n, 'int:1180591620717411303424'],
      [Buffer.from('None'), "bytes:b'None'"],
      ['hé', "str:'hé'"],
      [[1, 'a'], "list[int:1, str:'a']"],
      [tuple(1, 2), 'tuple(int:1, int:2)'],
      [{ k: Buffer.from('v') }, "dict{str:'k': bytes:b'v'}"],
      [new Map<unknown, unknown>([[1, 'one']]), "dict{int:1: str:'one'}"],
      [new Set([2, 1]), 'set{int:1, int:2}'],
      [new PyFrozenSet([3]), 'frozenset{int:3}'],
      [[shared, shared], "list[&1 dict{str:'x': int:1}, *1]"],
      [cyclic, '&1 list[int:1, *1]'],
      [new PyDateTime(2024, 1, 2, 3, 4, 5, 6), 'datetime:datetime.datetime(2024, 1, 2, 3, 4, 5, 6)'],
      [new PyDate(2024, 2, 29), 'date:datetime.date(2024, 2, 29)'],
      [new PyTimedelta(1, 2, 3), 'timedelta:datetime.timedelta(days=1, seconds=2, microseconds=3)'],
      [new PyDecimal(-12345n, -3), "Decimal:Decimal('-12.345')"],
    ];
    for (const [value, expected] of cases) {
      assert.equal(await calc.callRemote('describe', value), expected);
    }
  });

  it('passes keyword arguments', async () => {
    assert.equal(await calc.callRemote('addKw', 2, kwargs({ b: 40 })), 42);
  });

  it('receives Python exceptions as typed remote errors and keeps working', async () => {
    await assert.rejects(calc.callRemote('fail'), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.remoteType, 'builtins.ValueError');
      assert.equal(e.remoteValue, 'deliberate failure');
      assert.ok(e.check('builtins.Exception'));
      return true;
    });
    await assert.rejects(calc.callRemote('failPb'), (e: unknown) => {
      assert.ok(e instanceof RemoteError && e.remoteType === 'twisted.spread.pb.Error');
      return true;
    });
    await assert.rejects(calc.callRemote('nonexistent'), (e: unknown) => {
      assert.ok(e instanceof RemoteError && e.remoteType === 'twisted.spread.flavors.NoSuchMethod');
      return true;
    });
    await assert.rejects(calc.callRemote('raiseError', 'KeyError', 'k'), (e: unknown) => {
      assert.ok(e instanceof RemoteError && e.check('builtins.LookupError'));
      return true;
    });
    assert.equal(await calc.callRemote('add', 1, 2), 3);
  });

  it('sends Lathe errors to Python as CopyableFailures it can check', async () => {
    const thrower = referenceable({
      boom: () => {
        throw new RangeError('bad range');
      },
    });
    await assert.rejects(calc.callRemote('callRef', thrower, 'boom'), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.remoteType, 'builtins.ValueError');
      assert.equal(e.remoteValue, 'bad range');
      return true;
    });
  });

  it('passes references both ways: callbacks, local identity, release', async () => {
    assert.deepEqual(
      await calc.callRemote('callMeBack', referenceable({ ping: (v: number) => v + 1 }), 41),
      42,
    );
    assert.equal(await calc.callRemote('isSame', calc), true);
    const self = await calc.callRemote<RemoteReference>('getSelf');
    assert.ok(self instanceof RemoteReference);
    const before = await calc.callRemote<number>('countRefs');
    const made = await calc.callRemote<RemoteReference>('makeRef', 'tagged');
    assert.equal(await made.callRemote('tag'), 'tagged');
    assert.equal(await calc.callRemote('countRefs'), before + 1);
    made.release();
    assert.equal(await calc.callRemote('countRefs'), before, 'our decref freed the Python object');

    const held = referenceable({ ping: () => 1 });
    const exportsBefore = conn.broker.exportedCount;
    await calc.callRemote('holdRef', held);
    await calc.callRemote('holdRef', held);
    assert.equal(conn.broker.exportedCount, exportsBefore + 1);
    assert.equal(await calc.callRemote('releaseRefs'), 2);
    await calc.callRemote('echo', null);
    assert.equal(conn.broker.exportedCount, exportsBefore, 'Python decrefs freed our export');
  });

  it('copies Copyables both ways', async () => {
    const thing = await calc.callRemote<RemoteThing>('getThing');
    assert.ok(thing instanceof RemoteThing);
    assert.equal(thing.name, 'widget');
    assert.deepEqual(thing.values, [1, 2, 3]);
    assert.deepEqual(await calc.callRemote('echoThing', new Thing('gadget', [4, 5])), {
      name: 'gadget',
      values: [4, 5],
    });
  });

  it('follows a Python Cacheable and decaches it', async () => {
    const counter = await calc.callRemote<RemoteCounter>('getCounter');
    assert.ok(counter instanceof RemoteCounter);
    const v = counter.value;
    assert.equal(await calc.callRemote('bump'), v + 1);
    assert.equal(counter.value, v + 1, 'observe_setValue ran before the answer');
    assert.equal(await calc.callRemote('getCounter'), counter);
    assert.equal(await calc.callRemote('countCaches'), 1);
    counter.release();
    await calc.callRemote('echo', null);
    assert.equal(await calc.callRemote('countCaches'), 0);
  });

  it('one-way calls', async () => {
    calc.callRemoteNoAnswer('oneWay', 'note');
    assert.equal(await calc.callRemote('lastOneWay'), 'note');
  });

  it('is refused with a wrong password and an unknown user; anonymous login works', async () => {
    for (const [user, pw] of [
      ['alice', 'nope'],
      ['nobody', 'wonderland'],
    ]) {
      const c = await connect({ host: '127.0.0.1', port: twisted.port });
      await assert.rejects(c.login(user!, pw!), (e: unknown) => {
        assert.ok(e instanceof RemoteError && e.check('twisted.cred.error.UnauthorizedLogin'));
        return true;
      });
      c.close();
    }
    const c = await connect({ host: '127.0.0.1', port: twisted.port });
    const anon = await c.loginAnonymous();
    assert.deepEqual(await anon.callRemote('whoami'), tuple());
    c.close();
  });

  it('fails pending calls when Python drops the connection', async () => {
    const c = await connect({ host: '127.0.0.1', port: twisted.port });
    const a = await c.login('alice', 'wonderland');
    const k = await a.callRemote<RemoteReference>('getCalc');
    await assert.rejects(k.callRemote('disconnectMe'), ConnectionLostError);
    await c.closed;
  });
});
