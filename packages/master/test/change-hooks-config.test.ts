// `www.changeHooks` and the git poller's new options in a config: good ones load, bad ones
// are refused with the setting named and never with a secret's value in the message.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/loader.js';
import { tempDir } from './helpers.js';

const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const dir = tempDir('lathe-hooks-config-');
after(() => dir.cleanup());

let n = 0;
function config(settings: string): string {
  const file = join(dir.path, `c${++n}.config.ts`);
  writeFileSync(
    file,
    `import { defineConfig, gitPoller, secret } from '${lathe}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'b', workerNames: ['w1'], factory: { steps: [] } }],
  ${settings}
});
`,
  );
  return file;
}

async function refusal(settings: string): Promise<string> {
  try {
    await loadConfig(config(settings));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the config loaded');
}

describe('change hooks and git poller settings', () => {
  it('loads hooks with string and secret() secrets, and pollers with URLs and branch patterns', async () => {
    const { config: c } = await loadConfig(
      config(`www: { port: 0, changeHooks: { github: { secret: secret('gh') }, gitlab: { secret: 'tok', codebase: 'app' } } },
  changeSources: [
    gitPoller({ repourl: 'file:///srv/git/app.git', branches: ['main', /release-.*/] }),
    gitPoller({ repourl: 'https://git.example.com/app.git', branches: /.*/, name: 'https' }),
    gitPoller({ repourl: 'git@git.example.com:app.git', branches: (b) => b !== 'wip', name: 'scp' }),
  ],`),
    );
    assert.deepEqual(Object.keys(c.www?.changeHooks ?? {}), ['github', 'gitlab']);
    assert.equal(c.www?.changeHooks?.gitlab?.codebase, 'app');
    assert.equal(c.changeSources.length, 3);
  });

  it('refuses unknown providers, missing secrets and unknown options, naming them', async () => {
    const message = await refusal(
      `www: { changeHooks: { gitorious: { secret: 'x' }, github: {}, gitea: { secret: 'hush-hush', strict: true } } },`,
    );
    assert.match(message, /www\.changeHooks\.gitorious.*unknown provider/);
    assert.match(message, /www\.changeHooks\.github\.secret.*required/);
    assert.match(message, /www\.changeHooks\.gitea\.strict.*unknown option/);
    assert.doesNotMatch(message, /hush-hush/);
  });

  it('refuses a relative poller path and a branch list with something else than names and patterns', async () => {
    const message = await refusal(
      `changeSources: [gitPoller({ repourl: 'repos/app', branches: [42 as unknown as string] })],`,
    );
    assert.match(message, /repourl.*absolute path, a file:\/\/ URL/);
    assert.match(message, /branches.*names or RegExps/);
  });
});
