import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { seconds, UsageError } from '../src/cli.js';

const cliModule = new URL('../src/cli.js', import.meta.url).href;

/** Runs a script that hands `main` to runWhenInvoked; `name` is the script path node sees. */
function runScript(body: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = `import { runWhenInvoked } from ${JSON.stringify(cliModule)};\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('command-line basics', () => {
  it('reads seconds from an option, naming the option when they are not seconds', () => {
    assert.equal(seconds(undefined, 10, '--timeout', 'help'), 10);
    assert.equal(seconds('2.5', 10, '--timeout', 'help'), 2.5);
    for (const bad of ['-1', 'soon', 'Infinity']) {
      assert.throws(
        () => seconds(bad, 10, '--wait', 'the help'),
        (err: unknown) =>
          err instanceof UsageError &&
          err.message === `--wait needs a number of seconds, got ${JSON.stringify(bad)}` &&
          err.help === 'the help',
      );
    }
  });

  it('runs main only when the process was started as the script, with its exit code', () => {
    // `node -e` has no script path: argv[1] is the first argument after it.
    const main = 'async (argv) => { console.log(argv.join(",")); return argv.length; }';
    const ran = runScript(`runWhenInvoked(/^tool$/, ${main});`, ['tool', 'a', 'b']);
    assert.equal(ran.stdout, 'a,b\n');
    assert.equal(ran.status, 2);
    const notRun = runScript(`runWhenInvoked(/^other$/, ${main});`, ['tool', 'a']);
    assert.equal(notRun.stdout, '');
    assert.equal(notRun.status, 0);
  });

  it('prints an error that escapes main and exits 1', () => {
    const r = runScript(`runWhenInvoked(/^tool$/, async () => { throw new Error('broken tool'); });`, [
      'tool',
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /broken tool/);
  });
});
