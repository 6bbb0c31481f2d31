// A burst of GitHub push webhooks against a master in its own process: PUSHES signed
// pushes (one commit each, distinct revisions) sent with CONCURRENCY requests in flight.
// Once every push is answered the master is killed with SIGKILL, and the changes in its
// database are counted: every acknowledged push must be there. The master's CPU per push
// (from /proc) says what a push costs independently of the machine's load.
//
//   ./dev node bench/changes/webhook-burst.ts [--pushes N] [--concurrency N]
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openAndMigrate } from '@lathe/master';

const { values } = parseArgs({
  options: { pushes: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '50' } },
});
const PUSHES = Number(values.pushes);
const CONCURRENCY = Number(values.concurrency);
const SECRET = 'bench-secret';
const root = join(import.meta.dirname, '..', '..');

// The config lives in a temporary directory, outside the workspace's node_modules.
const latheIndex = pathToFileURL(join(root, 'packages', 'master', 'dist', 'src', 'index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'lathe-bench-hooks-'));
const masterDir = join(dir, 'master');
mkdirSync(masterDir);
writeFileSync(
  join(masterDir, 'master.config.ts'),
  `import { anyBranchScheduler, buildFactory, defineConfig, shellCommand } from '${latheIndex}';
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'app', workerNames: ['w1'], factory: buildFactory(shellCommand({ command: 'true' })) }],
  schedulers: [anyBranchScheduler({ name: 'all', builderNames: ['app'] })],
  www: { port: 0, changeHooks: { github: { secret: ${JSON.stringify(SECRET)} } } },
});
`,
);

const template = JSON.parse(readFileSync(join(root, 'fixtures', 'webhooks', 'github-push.json'), 'utf8'));
function push(i: number): Buffer {
  const sha = createHmac('sha1', 'rev').update(String(i)).digest('hex');
  const commit = { ...template.head_commit, id: sha, message: `push ${i}` };
  return Buffer.from(JSON.stringify({ ...template, after: sha, commits: [commit], head_commit: commit }));
}

const child = spawn(process.execPath, [join(import.meta.dirname, 'hook-master.ts'), masterDir], {
  stdio: ['ignore', 'pipe', 'inherit'],
  cwd: masterDir,
});
const exited = new Promise((r) => child.once('exit', r));
const { port } = JSON.parse(
  await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
) as { port: number };

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}
const cpuAtStart = cpuSecondsOf(child.pid!);

const bodies = Array.from({ length: PUSHES }, (_, i) => push(i));
const latencies: number[] = [];
let acknowledged = 0;
let refused = 0;
let next = 0;
async function sender(): Promise<void> {
  while (next < PUSHES) {
    const body = bodies[next++]!;
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/change_hook/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
      body: new Uint8Array(body),
    });
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    if (res.status === 200) acknowledged++;
    else refused++;
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, sender));
const seconds = (performance.now() - started) / 1000;
const masterCpuSeconds = cpuSecondsOf(child.pid!);
child.kill('SIGKILL');
await exited;

const db = await openAndMigrate({ url: `sqlite:${join(masterDir, 'state.sqlite')}` });
const stored = Number(
  (
    await db.kysely
      .selectFrom('changes')
      .select((e) => e.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
  ).n,
);
await db.close();
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
console.log(
  JSON.stringify({
    pushes: PUSHES,
    concurrency: CONCURRENCY,
    acknowledged,
    refused,
    storedAfterKill9: stored,
    lost: acknowledged - stored,
    seconds: Number(seconds.toFixed(2)),
    pushesPerSecond: Math.round(PUSHES / seconds),
    masterCpuMsPerPush: Number((((masterCpuSeconds - cpuAtStart) * 1000) / PUSHES).toFixed(2)),
    latencyMs: {
      p50: Number(pct(50).toFixed(1)),
      p95: Number(pct(95).toFixed(1)),
      max: Number(pct(100).toFixed(1)),
    },
  }),
);
process.exit(acknowledged === PUSHES && stored === acknowledged ? 0 : 1);
