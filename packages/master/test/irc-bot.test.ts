// The IRC bot against a real IRC server (Debian's ngIRCd) and a real master with a real
// Lathe worker: it registers with the server password, identifies to NickServ, joins a
// channel that has a key, announces finished builds (and who is to blame for a failure),
// and answers commands from raw-socket test clients — help, version, status, last, force
// (a real build runs), force refused for a nick not allowed, watch, stop, notify. A second
// bot finds its nick taken and takes another; others connect with TLS (and refuse a
// certificate they cannot check). Then the server dies: deliveries fail so that the
// framework retries them, and the bot comes back by itself when the server does.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Master } from '../src/master.js';
import {
  IrcNotConnectedError,
  type IrcReporter,
  ircReporter,
  masterBotHost,
} from '../src/reporters/irc/index.js';
import type { BuildReport, DeliveryContext } from '../src/reporters/report.js';
import { FAILURE, type Result } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { TestIrcClient } from './irc-client.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';
import { Ngircd, ngircdAvailable } from './ngircd.js';

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const BASE_URL = 'http://lathe.test/';
const SERVER_PASSWORD = 'server-pw';
const NICKSERV_PASSWORD = 'ns-secret';
const BOT = 'lathebot';
const CHANNEL = '#lathe';
const KEYED = '#inner';
const CHANNEL_KEY = 'sesame';

const CONFIG = `import { buildFactory, defineConfig, forceScheduler, shellCommand } from '${latheIndex}';
export default defineConfig({
  buildbotURL: '${BASE_URL}',
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    { name: 'quick', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'echo ok' })) },
    { name: 'slow', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'sleep 60' })) },
  ],
  schedulers: [forceScheduler({ name: 'force', builderNames: ['quick', 'slow'] })],
});
`;

const deliveryContext = (): DeliveryContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  log: () => {},
});

/** Waits until the bot is registered and in its channels, or fails the test. */
async function ready(bot: IrcReporter): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${bot.name} not in its channels after 20 s`)), 20_000);
  });
  try {
    await Promise.race([bot.ready(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A build-finished report read from the master, as the reporters framework's generators
 * make them, so the test can hand the bot what it would be given.
 */
async function finishedReport(master: Master, buildid: number): Promise<BuildReport> {
  const build = await master.data.builds.get(buildid);
  assert.ok(build && build.completeAt !== null);
  const builderName = [...master.builders.values()].find((b) => b.builderid === build.builderid)!.name;
  return {
    kind: 'build-finished',
    key: `build-finished:${buildid}`,
    at: build.completeAt,
    build: {
      buildid,
      number: build.number,
      builderid: build.builderid,
      builderName,
      tags: [],
      results: build.results as Result,
      stateString: build.stateString,
      startedAt: build.startedAt,
      completeAt: build.completeAt,
      workerName: 'w1',
      url: `${BASE_URL}#/builders/${build.builderid}/builds/${build.number}`,
      reason: null,
      branch: null,
      revision: null,
      repository: null,
      project: null,
      properties: {},
    },
    previousResults: null,
    blamelist: [],
    failedSteps: [],
    bisection: null,
  };
}

describe('IRC bot on a real IRC server', { skip: !ngircdAvailable() || !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-irc-');
  let server: Ngircd;
  let env: MasterAndWorker;
  let master: Master;
  let bot: IrcReporter;
  let alice: TestIrcClient; // may force and stop
  let mallory: TestIrcClient; // may not
  let nickserv: TestIrcClient;
  const clients: TestIrcClient[] = [];
  const botLog: string[] = [];
  const delivered: Promise<void>[] = [];

  const connect = async (nick: string) => {
    const c = await TestIrcClient.connect(server.port, nick, SERVER_PASSWORD);
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await Ngircd.start(join(dir.path, 'ircd'), { password: SERVER_PASSWORD, tls: true });
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      configText: CONFIG,
      name: 'irc-bot',
      quiet: true,
    });
    master = env.master;
    alice = await connect('alice');
    mallory = await connect('mallory');
    nickserv = await connect('NickServ');
    await alice.join(CHANNEL);
    await mallory.join(CHANNEL);
    // A channel with a key: the bot must send it to get in.
    await alice.join(KEYED);
    alice.send(`MODE ${KEYED} +k ${CHANNEL_KEY}`);
    await alice.waitForLine((l) => l.includes(`MODE ${KEYED} +k`), 'the channel key to be set');

    bot = ircReporter(
      {
        host: '127.0.0.1',
        port: server.port,
        nick: BOT,
        password: SERVER_PASSWORD,
        nickservPassword: NICKSERV_PASSWORD,
        channels: [CHANNEL, { name: KEYED, key: CHANNEL_KEY }],
        allow: { alice: ['force', 'stop'], '*!*@never.example': ['force'] },
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
        flood: { burst: 5, intervalMs: 200 },
        commandRate: { burst: 20, intervalMs: 100 },
      },
      { log: (level, message) => botLog.push(`${level}: ${message}`) },
    );
    bot.attach(masterBotHost(master));
    await bot.start();
    await ready(bot);
    // What the reporters framework does: a report for each finished build, delivered once.
    master.bus.subscribe('build.finished', async (m) => {
      const report = await finishedReport(master, m.payload.buildid);
      delivered.push(bot.deliver(report, deliveryContext()));
    });
  });

  after(async () => {
    await bot?.stop();
    for (const c of clients) await c.quit();
    await env?.stop();
    await server?.kill();
    dir.cleanup();
  });

  const requestCount = async () =>
    Number(
      (
        await master.db.kysely
          .selectFrom('buildrequests')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('registers with the server password, identifies to NickServ and joins a channel with its key', async () => {
    // ready(bot) resolved: it is in both channels, the keyed one included.
    const identify = await nickserv.waitFor((m) => m.from === BOT, 'the bot to identify');
    assert.equal(identify.text, `IDENTIFY ${NICKSERV_PASSWORD}`);
    assert.equal(identify.target, 'NickServ');
    assert.ok(
      !botLog.some((l) => l.includes(NICKSERV_PASSWORD) || l.includes(SERVER_PASSWORD)),
      botLog.join('\n'),
    );
  });

  it('answers help, version and unknown commands in the channel and in private', async () => {
    const help = await alice.ask(CHANNEL, BOT, `${BOT}: help`);
    assert.equal(help.target, CHANNEL);
    assert.match(help.text, /^alice: commands: status, last, force, stop, watch, notify, help, version/);
    const helpForce = await alice.ask(BOT, BOT, 'help force');
    assert.equal(helpForce.target, 'alice');
    assert.match(helpForce.text, /^force <builder> \[reason\]/);
    const version = await alice.ask(CHANNEL, BOT, `${BOT}, version`);
    assert.match(version.text, /^alice: Lathe \d+\.\d+\.\d+ \(node v\d+/);
    const unknown = await mallory.ask(CHANNEL, BOT, `${BOT}: frobnicate now`);
    assert.match(unknown.text, /^mallory: unknown command "frobnicate"; commands: status, last, force/);
    // Addressed to someone else: not for the bot, which answers in order, so the private
    // answer that follows shows there was none in the channel.
    const from = mallory.received.length;
    mallory.say(CHANNEL, 'alice: help');
    await mallory.ask(BOT, BOT, 'version');
    assert.deepEqual(
      mallory.received
        .slice(from)
        .filter((m) => m.from === BOT)
        .map((m) => m.target),
      ['mallory'],
    );
  });

  it('says status before any build', async () => {
    const first = alice.received.length;
    alice.say(CHANNEL, `${BOT}: status`);
    await alice.waitFor((m) => m.from === BOT && m.text.startsWith('alice: slow:'), 'the status of slow', {
      from: first,
    });
    const lines = alice.received
      .slice(first)
      .filter((m) => m.from === BOT && m.text.startsWith('alice: '))
      .map((m) => m.text);
    assert.deepEqual(lines, ['alice: quick: idle; no builds yet', 'alice: slow: idle; no builds yet']);
  });

  it('refuses force and stop from a nick that is not allowed, and adds nothing', async () => {
    const before = await requestCount();
    const force = await mallory.ask(CHANNEL, BOT, `${BOT}: force quick please`);
    assert.equal(
      force.text,
      "mallory: you (mallory) may not force builds: ask the master's admin to allow you",
    );
    const stop = await mallory.ask(BOT, BOT, 'stop quick');
    assert.match(stop.text, /^you \(mallory\) may not stop builds/);
    assert.equal(await requestCount(), before);
    const noBuilder = await alice.ask(CHANNEL, BOT, `${BOT}: force nosuch`);
    assert.equal(noBuilder.text, 'alice: no builder named "nosuch"');
    assert.equal(await requestCount(), before);
  });

  it('forces a real build for an allowed nick, follows it, announces it and notifies subscribers', async () => {
    const on = await mallory.ask(BOT, BOT, 'notify on');
    assert.equal(on.text, "I'll tell you by private message about: finished");
    const listed = await mallory.ask(BOT, BOT, 'notify list');
    assert.equal(listed.text, on.text);

    const from = alice.received.length;
    const forced = await alice.ask(CHANNEL, BOT, `${BOT}: force quick testing the bot`);
    assert.match(
      forced.text,
      /^alice: build request (\d+) of quick queued \(buildset \d+\); I'll say here when it finishes$/,
    );
    const finished = await alice.waitFor(
      (m) => m.from === BOT && /finished/.test(m.text),
      'the forced build to finish',
      { from },
    );
    const url = `${BASE_URL}#/builders/${master.builders.get('quick')!.builderid}/builds/1`;
    assert.equal(finished.text, `alice: build #1 of quick finished: success — ${url}`);
    // The build really ran on the worker, for the reason given.
    const build = await master.data.builds.getByNumber(master.builders.get('quick')!.builderid, 1);
    assert.equal(build?.results, 0);
    const buildset = await master.data.buildsets.get(
      (await master.data.buildrequests.get(build!.buildrequestid))!.buildsetid,
    );
    // The force scheduler made the reason (its default reasonString) and the owner.
    assert.equal(buildset?.reason, "A build was forced by 'irc:alice': testing the bot");

    // The announcement, in both channels, and to the subscriber by private notice.
    const announced = await alice.waitFor(
      (m) => m.from === BOT && m.text.startsWith('Build #1 of quick'),
      'the announcement',
      { from },
    );
    assert.equal(announced.text, `Build #1 of quick passed — ${url}`);
    assert.equal(announced.target, CHANNEL);
    await alice.waitFor(
      (m) => m.from === BOT && m.target === KEYED && m.text === announced.text,
      'the announcement in the keyed channel',
      { from },
    );
    const notified = await mallory.waitFor(
      (m) => m.from === BOT && m.target === 'mallory' && m.text === announced.text,
      'the notification',
    );
    assert.equal(notified.notice, true);
    await Promise.all(delivered);

    const off = await mallory.ask(BOT, BOT, 'notify off');
    assert.equal(off.text, 'you get no notifications from me');
    const bad = await mallory.ask(BOT, BOT, 'notify on everything');
    assert.match(bad.text, /^unknown event "everything"; events: started, finished/);
  });

  it('answers last with the builder’s last finished build', async () => {
    const last = await mallory.ask(CHANNEL, BOT, `${BOT}: last quick`);
    assert.match(
      last.text,
      new RegExp(
        `^mallory: build #1 of quick: success \\(.*\\), finished \\d+ s ago — ${BASE_URL.replace(/[./]/g, '\\$&')}#/builders/\\d+/builds/1$`,
      ),
    );
    const none = await mallory.ask(CHANNEL, BOT, `${BOT}: last slow`);
    assert.equal(none.text, 'mallory: slow has no finished builds yet');
    const usage = await mallory.ask(CHANNEL, BOT, `${BOT}: last`);
    assert.match(usage.text, /^mallory: usage: last <builder>/);
  });

  it('watches a running build, shows it in status, and stops it for an allowed nick only', async () => {
    const nothing = await mallory.ask(CHANNEL, BOT, `${BOT}: watch slow`);
    assert.equal(nothing.text, 'mallory: no build of slow is running');
    await alice.ask(BOT, BOT, 'force slow', /queued/);
    const slowid = master.builders.get('slow')!.builderid;
    await waitFor(
      async () => (await master.data.builds.getByNumber(slowid, 1)) !== undefined,
      20_000,
      'slow to start',
    );

    const watching = await mallory.ask(CHANNEL, BOT, `${BOT}: watch slow`);
    assert.equal(watching.text, "mallory: watching build #1 of slow: I'll say here when it finishes");
    const status = await mallory.ask(CHANNEL, BOT, `${BOT}: status slow`);
    assert.equal(status.text, 'mallory: slow: building #1; no builds yet');

    const refused = await mallory.ask(CHANNEL, BOT, `${BOT}: stop slow`);
    assert.match(refused.text, /may not stop builds/);
    assert.equal((await master.data.builds.getByNumber(slowid, 1))?.completeAt, null);

    const from = mallory.received.length;
    const stopping = await alice.ask(CHANNEL, BOT, `${BOT}: stop slow enough waiting`);
    assert.equal(stopping.text, 'alice: stopping build #1 of slow');
    const done = await mallory.waitFor(
      (m) => m.from === BOT && m.text.startsWith('mallory: build #1 of slow finished'),
      'the watched build to finish',
      { from },
    );
    assert.equal(
      done.text,
      `mallory: build #1 of slow finished: cancelled — ${BASE_URL}#/builders/${slowid}/builds/1`,
    );
    assert.equal(done.target, CHANNEL);
    const stopped = await master.data.builds.getByNumber(slowid, 1);
    assert.equal(stopped?.results, 6);
    assert.match(stopped!.stateString, /enough waiting/);
    // Notifications were turned off: mallory got the quick build's only.
    await Promise.all(delivered);
    assert.equal(
      mallory.received.filter((m) => m.from === BOT && m.target === 'mallory' && m.text.startsWith('Build #'))
        .length,
      1,
    );
  });

  it('names the blamelist’s authors when it announces a failure', async () => {
    const from = alice.received.length;
    const report = await finishedReport(
      master,
      (await master.data.builds.getByNumber(master.builders.get('quick')!.builderid, 1))!.id,
    );
    const change = (author: string) => ({
      changeid: 1,
      author,
      email: null,
      revision: 'abc',
      branch: 'main',
      repository: 'r',
      comments: '',
      files: [],
      revlink: null,
    });
    await bot.deliver(
      {
        ...report,
        key: 'failed',
        build: { ...report.build, results: FAILURE, branch: 'main', revision: '0123456789abcdef' },
        blamelist: [
          change('Jane Doe <jane@example.org>'),
          change('bob'),
          change('Jane Doe <jane@example.org>'),
        ],
      },
      deliveryContext(),
    );
    const line = await alice.waitFor(
      (m) => m.from === BOT && m.text.startsWith('Build #1 of quick failed'),
      'the failure',
      { from },
    );
    assert.equal(
      line.text,
      `Build #1 of quick failed on main (0123456789ab) — ${report.build.url} — blamelist: Jane Doe, bob`,
    );
  });

  it('takes another nick while its own is taken', async () => {
    const other = ircReporter(
      {
        name: 'irc-2',
        host: '127.0.0.1',
        port: server.port,
        nick: BOT,
        password: SERVER_PASSWORD,
        channels: [CHANNEL],
      },
      { log: () => {} },
    );
    other.attach(masterBotHost(master));
    try {
      await other.start();
      await ready(other);
      assert.equal(other.nick, `${BOT}_`);
      const help = await alice.ask(CHANNEL, `${BOT}_`, `${BOT}_: help`);
      assert.match(help.text, /^alice: commands:/);
    } finally {
      await other.stop();
    }
  });

  it('connects with TLS, checking the certificate unless told not to', async () => {
    const log: string[] = [];
    const tls = (nick: string, tlsVerify?: boolean) =>
      ircReporter(
        {
          name: nick,
          host: '127.0.0.1',
          port: server.tlsPort!,
          tls: true,
          ...(tlsVerify === undefined ? {} : { tlsVerify }),
          nick,
          password: SERVER_PASSWORD,
          channels: [CHANNEL],
          reconnect: { initialDelayMs: 60_000 },
        },
        { log: (level, message) => log.push(`${nick} ${level}: ${message}`) },
      );
    const unverified = tls('tlsbot', false);
    const strict = tls('strictbot');
    unverified.attach(masterBotHost(master));
    try {
      await strict.start();
      await unverified.start();
      await ready(unverified);
      const help = await alice.ask(CHANNEL, 'tlsbot', 'tlsbot: help');
      assert.match(help.text, /^alice: commands:/);
      // The server's certificate is self-signed: the default refuses it.
      await waitFor(
        () => log.some((l) => l.startsWith('strictbot warn: disconnected')),
        10_000,
        'the refusal',
      );
      assert.match(log.find((l) => l.startsWith('strictbot warn'))!, /self-signed certificate/);
      assert.equal(strict.connected, false);
    } finally {
      await unverified.stop();
      await strict.stop();
    }
  });

  it('fails deliveries while the server is gone and reconnects by itself', async () => {
    const report = await finishedReport(
      master,
      (await master.data.builds.getByNumber(master.builders.get('quick')!.builderid, 1))!.id,
    );
    await server.kill();
    await waitFor(() => !bot.connected, 10_000, 'the bot to notice');
    await assert.rejects(bot.deliver(report, deliveryContext()), IrcNotConnectedError);
    await server.restart();
    await ready(bot);
    const watcher = await connect('watcher');
    await watcher.join(CHANNEL);
    await bot.deliver({ ...report, key: 'again' }, deliveryContext());
    const line = await watcher.waitFor(
      (m) => m.from === BOT && m.target === CHANNEL,
      'the announcement after reconnecting',
    );
    assert.match(line.text, /^Build #1 of quick passed/);
    assert.ok(
      botLog.some((l) => /reconnecting in \d+ ms/.test(l)),
      botLog.join('\n'),
    );
  });
});
