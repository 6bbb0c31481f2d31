// A webhook acknowledged just before the master is killed with SIGKILL still builds: the
// change is committed before the 2xx answer (with its row in unscheduled_changes), so the
// restarted master offers it to the schedulers again and (now with a worker) builds it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { SUCCESS } from '../src/results.js';
import { waitFor, workerAvailable } from './bbworker.js';
import { tempDir } from './helpers.js';
import { authHeader, changeHooksConfig, fixture, TEST_SECRETS } from './hook-requests.js';
import { type MasterAndWorker, startMasterAndWorker } from './master-and-worker.js';

const latheIndex = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
const configText = `import { anyBranchScheduler, buildFactory, defineConfig, secret, shellCommand, StaticSecretProvider } from '${latheIndex}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'echo built' })) }],
  schedulers: [anyBranchScheduler({ name: 'every-branch', builderNames: ['app'] })],
  ${changeHooksConfig(0)}
});
`;

/** Posts the push and kills the master as soon as the answer's status line arrives. */
function postThenKill(port: number, kill: () => void): Promise<{ status: number; body: string }> {
  const body = fixture('github-push.json');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/change_hook/github',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          ...authHeader('github', TEST_SECRETS.github, body),
        },
      },
      (res) => {
        if (res.statusCode === 200) kill();
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('a webhook acknowledged right before kill -9', { skip: !workerAvailable('lathe') }, () => {
  const dir = tempDir('lathe-hook-crash-');
  let env: MasterAndWorker | undefined;
  after(async () => {
    await env?.stop();
    dir.cleanup();
  });

  it('is built after the restart', async () => {
    const masterDir = join(dir.path, 'master');
    mkdirSync(masterDir, { recursive: true });
    writeFileSync(join(masterDir, 'master.config.ts'), configText);
    const child = spawn(process.execPath, [join(import.meta.dirname, 'hook-crash-child.js'), masterDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`the master exited (${code}) before serving`)));
      });
      const { port } = JSON.parse(line) as { port: number };
      const answer = await postThenKill(port, () => child.kill('SIGKILL'));
      assert.equal(answer.status, 200);
      await exited;
      assert.equal(child.signalCode, 'SIGKILL');
      const changeids = (JSON.parse(answer.body) as { changes: number[] }).changes;
      assert.equal(changeids.length, 2);

      env = await startMasterAndWorker({
        kind: 'lathe',
        masterDir,
        workerDir: join(dir.path, 'worker'),
        configText,
        name: 'hook-crash-restarted',
        quiet: true,
      });
      const master = env.master;
      for (const id of changeids)
        assert.equal((await master.data.changes.get(id))?.branch, 'main', `change ${id} survived the kill`);
      // Both changes are on one branch: the newest one's build stands for the older request too.
      const newest = changeids.at(-1)!;
      let result: number | null = null;
      await waitFor(
        async () => {
          const ids = await master.data.changes.buildIds(newest);
          const build = ids.length > 0 ? await master.data.builds.get(ids[0]!) : undefined;
          if (build?.completeAt) result = build.results;
          return result !== null;
        },
        30_000,
        `the build of change ${newest} after the restart`,
      );
      assert.equal(result, SUCCESS);
      for (const id of changeids)
        assert.ok(await master.data.changes.hasBuildset(id), `change ${id} was scheduled`);
      const open = await master.db.kysely
        .selectFrom('buildrequests')
        .select('id')
        .where('complete', '=', 0)
        .execute();
      assert.deepEqual(open, [], 'every request of the acknowledged changes is done');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
