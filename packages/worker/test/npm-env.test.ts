// What a worker started through npm removes from the environment its builds inherit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutNpmAdditions } from '../src/cli/npm-env.js';

// As `npm exec` in /home/u/proj hands it over (npm 11), around the user's own variables.
const underNpm = {
  HOME: '/home/u',
  PATH: [
    '/home/u/proj/node_modules/.bin',
    '/home/u/node_modules/.bin',
    '/node_modules/.bin',
    '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
    '/home/u/bin',
    '/usr/bin',
    '/bin',
  ].join(':'),
  COLOR: '0',
  INIT_CWD: '/home/u/proj',
  NODE: '/usr/bin/node',
  npm_command: 'exec',
  npm_config_cache: '/home/u/.npm',
  npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
  npm_lifecycle_event: 'npx',
  npm_node_execpath: '/usr/bin/node',
  npm_package_json: '/home/u/proj/package.json',
  NPM_TOKEN: 'users-own',
  CC: 'gcc-12',
};

describe('withoutNpmAdditions', () => {
  it('drops npm’s variables and PATH entries and keeps the user’s', () => {
    assert.deepEqual(withoutNpmAdditions(underNpm), {
      HOME: '/home/u',
      PATH: '/home/u/bin:/usr/bin:/bin',
      NPM_TOKEN: 'users-own',
      CC: 'gcc-12',
    });
  });

  it('keeps a NODE of the user’s own, and leaves an environment npm never touched alone', () => {
    assert.equal(withoutNpmAdditions({ ...underNpm, NODE: '/opt/node/bin/node' }).NODE, '/opt/node/bin/node');
    const plain = { PATH: '/x/node_modules/.bin:/usr/bin', COLOR: '1', INIT_CWD: '/x' };
    assert.deepEqual(withoutNpmAdditions(plain), plain);
  });

  it('under ./dev (npm config variables, no npm process) drops those and node_modules/.bin only', () => {
    assert.deepEqual(
      withoutNpmAdditions({
        PATH: '/repo/.tools/node/bin:/repo/node_modules/.bin:/usr/bin',
        npm_config_nodedir: '/repo/.tools/node',
        COLOR: '1',
      }),
      { PATH: '/repo/.tools/node/bin:/usr/bin', COLOR: '1' },
    );
  });
});
