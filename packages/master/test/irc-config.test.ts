// The IRC bot as the config gives it: `reporters: [{ reporter: ircReporter({...}),
// generators: [...] }]`. The reporters framework starts it with the running master, so its
// commands work (an allowed nick forces a real build through it), and the generator's
// report of that build reaches the channel through durable delivery.
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { TestIrcClient } from './irc-client.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';
import { Ngircd, ngircdAvailable } from './ngircd.js';

const src = (path: string) => pathToFileURL(join(import.meta.dirname, '..', 'src', path)).href;
const PASSWORD = 'server-pw';

describe('the IRC bot from the config', { skip: !ngircdAvailable() || !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-irc-config-');
  let server: Ngircd;
  let env: MasterAndWorker;
  let alice: TestIrcClient;

  before(async () => {
    server = await Ngircd.start(join(dir.path, 'ircd'), { password: PASSWORD });
    alice = await TestIrcClient.connect(server.port, 'alice', PASSWORD);
    await alice.join('#ci');
    env = await startMasterAndWorker({
      kind: 'lathe',
      masterDir: join(dir.path, 'master'),
      workerDir: join(dir.path, 'worker'),
      name: 'irc-config',
      quiet: true,
      configText: `import { buildFactory, buildStatusGenerator, defineConfig, shellCommand } from '${src('index.js')}';
import { ircReporter } from '${src('reporters/irc/index.js')}';
export default defineConfig({
  buildbotURL: 'http://lathe.test/',
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [{ name: 'quick', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'echo ok' })) }],
  reporters: [
    {
      reporter: ircReporter({
        host: '127.0.0.1',
        port: ${server.port},
        nick: 'cibot',
        password: '${PASSWORD}',
        channels: ['#ci'],
        allow: { alice: ['force'] },
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      }),
      generators: [buildStatusGenerator({ mode: 'all' })],
      retry: { initialDelayMs: 200, maxDelayMs: 1000 },
    },
  ],
});
`,
    });
  });

  after(async () => {
    await alice?.quit();
    await env?.stop();
    await server?.kill();
    dir.cleanup();
  });

  it('forces a build on command and announces how it ended', async () => {
    await alice.waitForLine((l) => /:cibot!\S+ JOIN :?#ci/.test(l), 'the bot to join #ci');
    await alice.ask('#ci', 'cibot', 'cibot: force quick from irc', /quick/);
    await alice.waitFor(
      (m) => m.from === 'cibot' && m.target === '#ci' && /Build #1 of quick passed/.test(m.text),
      'the announcement of build #1',
      { timeoutMs: 60_000 },
    );
  });
});
