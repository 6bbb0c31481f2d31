// Several `lathe start --nodaemon`ed masters on one database, each with `cluster` in its
// generated config, and Lathe workers attached to the master each one is given.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startWorker } from '../master/buildbot.ts';
import {
  killGroup,
  LATHE_INDEX,
  ROOT,
  startChild,
  stopChild,
  TextLines,
  waitUntil,
} from '../master/common.ts';
import type { BenchDb } from './bench-db.ts';

const LATHE_CLI = join(ROOT, 'packages/master/bin/lathe.js');

export interface BuilderSpec {
  readonly name: string;
  /** argv of the single step. */
  readonly command: readonly string[];
  readonly workerNames: readonly string[];
}

export interface ClusterSpec {
  readonly masters: number;
  readonly workers: readonly string[];
  readonly builders: readonly BuilderSpec[];
  /** Which master each worker attaches to (an index); default round-robin. */
  readonly workerMaster?: (index: number) => number;
  /** Leases, claims and heartbeat; default Lathe's (30 s leases, 10 s heartbeat). */
  readonly leaseSeconds?: number;
  readonly heartbeatSeconds?: number;
}

export interface RunningMaster {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly dir: string;
}

function configText(db: BenchDb, port: number, spec: ClusterSpec): string {
  const workers = spec.workers.map((w) => `{ name: '${w}', password: 'pw' }`);
  const builders = spec.builders.map(
    (b) =>
      `{ name: '${b.name}', workerNames: ${JSON.stringify(b.workerNames)}, collapseRequests: false, factory: buildFactory(shellCommand({ name: 'step', command: ${JSON.stringify(b.command)} })) }`,
  );
  const lease = spec.leaseSeconds;
  const cluster = lease
    ? `{ leaseSeconds: ${lease}, heartbeatSeconds: ${spec.heartbeatSeconds ?? Math.floor(lease / 4)} }`
    : '{}';
  return `import { buildFactory, defineConfig, pbChangeSource, shellCommand, singleBranchScheduler } from '${LATHE_INDEX}';
export default defineConfig({
  workerPort: ${port},
  workers: [${workers.join(', ')}],
  builders: [${builders.join(',\n    ')}],
  changeSources: [pbChangeSource()],
  schedulers: [singleBranchScheduler({ name: 'main', branch: 'main', treeStableTimer: null, builderNames: ${JSON.stringify(spec.builders.map((b) => b.name))} })],
  db: { url: ${JSON.stringify(db.url)} },
  ${lease ? `masterExpirySeconds: ${lease},` : ''}
  cluster: ${cluster},
});
`;
}

/** Masters started one after another (the first migrates the database), then the workers. */
export class Cluster {
  readonly masters: RunningMaster[] = [];
  readonly #workers: ChildProcess[] = [];
  readonly root: string;
  readonly db: BenchDb;
  readonly spec: ClusterSpec;

  constructor(root: string, db: BenchDb, spec: ClusterSpec) {
    this.root = root;
    this.db = db;
    this.spec = spec;
  }

  async start(): Promise<void> {
    for (let m = 0; m < this.spec.masters; m++) {
      const dir = join(this.root, `m${m}`);
      const port = await freePort();
      execFileSync(process.execPath, [LATHE_CLI, 'create-master', dir], { stdio: 'ignore' });
      writeFileSync(join(dir, 'master.config.ts'), configText(this.db, port, this.spec));
      const proc = startChild(process.execPath, [LATHE_CLI, 'start', '--nodaemon', dir]);
      await new TextLines(proc, `lathe start m${m}`).next(
        (l) => l.includes('worker port listening'),
        120_000,
      );
      this.masters.push({ proc, port, dir });
    }
    const at = this.spec.workerMaster ?? ((i: number) => i % this.spec.masters);
    this.spec.workers.forEach((w, i) => {
      this.#workers.push(startWorker('lathe', join(this.root, w), this.masters[at(i)]!.port, w));
    });
    const attached = async () =>
      (await this.db.number('SELECT count(*) AS n FROM connected_workers')) === this.spec.workers.length;
    await waitUntil(attached, 120_000, `${this.spec.workers.length} workers to attach`, 100);
  }

  /** The masters table's id of master `m` (its name is its directory). */
  async masterid(m: number): Promise<number> {
    const rows = await this.db.rows<{ id: number; name: string }>('SELECT id, name FROM masters');
    const dir = this.masters[m]!.dir;
    const row = rows.find((r) => r.name.includes(dir) || dir.endsWith(r.name));
    if (!row) throw new Error(`no masters row for ${dir} among ${JSON.stringify(rows)}`);
    return Number(row.id);
  }

  /** `kill -9` of master `m`'s process. */
  kill(m: number): void {
    killGroup(this.masters[m]!.proc, 'SIGKILL');
  }

  async stop(): Promise<void> {
    for (const w of this.#workers) await stopChild(w);
    for (const m of this.masters) await stopChild(m.proc, 'SIGTERM', 30_000);
  }
}
