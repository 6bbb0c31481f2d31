// The IRC bot's `notify on` subscriptions survive a master restart: a user subscribes to
// failures through a bot the master runs from its config (against Debian's ngIRCd), the
// master stops and starts again on the same database, and the user still gets the bot's
// private notice of the next failed build, and `notify list` still says so. `notify off`
// is stored too. The bot's announcement is the `format` the config gives it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Master } from '../src/master.js';
import { FAILURE } from '../src/results.js';
import { tempDir } from './helpers.js';
import { TestIrcClient } from './irc-client.js';
import { Ngircd, ngircdAvailable } from './ngircd.js';
import { recordBuild } from './report-history.js';

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const ircIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'reporters', 'irc', 'index.js')).href;
const SERVER_PASSWORD = 'server-pw';
const BOT = 'notifybot';

const configText = (port: number) => `import { buildStatusGenerator, defineConfig } from '${latheIndex}';
import { announcement, ircReporter } from '${ircIndex}';
export default defineConfig({
  buildbotURL: 'http://lathe.test/',
  reporters: [
    {
      reporter: ircReporter({
        host: '127.0.0.1', port: ${port}, nick: '${BOT}', password: '${SERVER_PASSWORD}', channels: ['#builds'],
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
        // A configured format; its line break becomes a space.
        format: (report) => \`lathe says:\\n\${announcement(report)}\`,
      }),
      generators: [buildStatusGenerator()],
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
    },
  ],
});
`;

describe('IRC notify subscriptions across a master restart', {
  skip: !ngircdAvailable(),
  timeout: 90_000,
}, () => {
  const dir = tempDir('lathe-irc-notify-');
  let server: Ngircd;
  let master: Master | undefined;
  let carol: TestIrcClient;

  const startMaster = async () => {
    master = await Master.start({ basedir: join(dir.path, 'master'), name: 'irc-notify', onError: () => {} });
    return master;
  };
  /** Asks the bot in private, again while it is not (yet) on the server to get the message. */
  const askBot = async (text: string) => {
    for (let i = 0; ; i++) {
      const from = carol.received.length;
      carol.say(BOT, text);
      try {
        return await carol.waitFor(
          (m) => m.from === BOT && m.target === 'Carol' && !m.notice,
          `an answer to "${text}"`,
          { from, timeoutMs: 2000 },
        );
      } catch (err) {
        if (i >= 15) throw err;
      }
    }
  };

  before(async () => {
    server = await Ngircd.start(join(dir.path, 'ircd'), { password: SERVER_PASSWORD });
    mkdirSync(join(dir.path, 'master'));
    writeFileSync(join(dir.path, 'master', 'master.config.ts'), configText(server.port));
    carol = await TestIrcClient.connect(server.port, 'Carol', SERVER_PASSWORD);
  });

  after(async () => {
    await master?.stop();
    await carol?.quit();
    await server?.kill();
    dir.cleanup();
  });

  it('keeps notify on and notify off in the database', async () => {
    await startMaster();
    const on = await askBot('notify on failure');
    assert.equal(on.text, "I'll tell you by private message about: failure");
    const rows = await master!.data.ctx.db.selectFrom('irc_subscriptions').selectAll().execute();
    assert.deepEqual(
      rows.map((r) => [r.reporter, r.nick_key, r.nick, r.events]),
      [['irc', 'carol', 'Carol', 'failure']],
    );

    await master!.stop();
    await startMaster();
    const listed = await askBot('notify list');
    assert.equal(listed.text, "I'll tell you by private message about: failure");
    const from = carol.received.length;
    const failed = await recordBuild(master!.data, master!.masterid, {
      builder: 'app',
      author: 'Dave',
      results: FAILURE,
    });
    const notice = await carol.waitFor(
      (m) => m.from === BOT && m.target === 'Carol' && m.notice,
      'the failure notice after the restart',
      { from },
    );
    assert.match(notice.text, new RegExp(`^lathe says: Build #${failed.number} of app failed`));

    const off = await askBot('notify off');
    assert.equal(off.text, 'you get no notifications from me');
    await master!.stop();
    await startMaster();
    assert.equal((await askBot('notify list')).text, 'you get no notifications from me');
    assert.deepEqual(await master!.data.ctx.db.selectFrom('irc_subscriptions').selectAll().execute(), []);
  });
});
