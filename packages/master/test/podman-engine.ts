// A real Docker Engine API for tests: Podman's API service (`podman system service`) on a
// unix socket, with its own storage in a temporary directory, and a local image that holds
// nothing but empty directories (no registry is reachable): containers get the host's
// /usr, /lib, /bin and this repository bind-mounted read-only, so they can run Node and
// the built Lathe worker.
//
// Two things of this machine kind need working around, neither of which touches the host:
// the kernel mounts cgroup v1 and v2 side by side ("hybrid"), which crun refuses, so the
// service runs in a private mount namespace without the v2 mount and with cgroups off; and
// root lacks CAP_SYS_RESOURCE, so containers get rlimits below the current ones.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

export const PODMAN = '/usr/bin/podman';
export const TEST_IMAGE = 'localhost/lathe-latent-test:1';

export function podmanAvailable(): boolean {
  return existsSync(PODMAN) && existsSync('/usr/bin/unshare') && process.getuid?.() === 0;
}

export interface PodmanEngine {
  readonly socketPath: string;
  stop(): Promise<void>;
}

export async function startPodmanEngine(): Promise<PodmanEngine> {
  const dir = tempDir('lathe-podman-');
  const root = join(dir.path, 'root');
  const runroot = join(dir.path, 'run');
  const socketPath = join(dir.path, 'api.sock');
  const conf = join(dir.path, 'containers.conf');
  writeFileSync(
    conf,
    `[containers]
cgroups = "disabled"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "${join(dir.path, 'libpod')}"
`,
  );
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const storage = ['--storage-driver=vfs', '--root', root, '--runroot', runroot];
  // The image: empty directories where the bind mounts and the worker's files go.
  const rootfs = join(dir.path, 'rootfs');
  for (const d of ['tmp', 'proc', 'dev', 'sys', 'etc', 'usr', 'lib', 'lib64', 'bin', 'work', 'worker'])
    mkdirSync(join(rootfs, d), { recursive: true });
  execFileSync('tar', ['-C', rootfs, '-cf', join(dir.path, 'rootfs.tar'), '.']);
  execFileSync(PODMAN, [...storage, 'import', join(dir.path, 'rootfs.tar'), TEST_IMAGE], {
    env,
    stdio: 'ignore',
  });
  const script = `umount /sys/fs/cgroup/unified 2>/dev/null; exec ${PODMAN} ${storage.join(' ')} system service --time=0 unix://${socketPath}`;
  const service: ChildProcess = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    env,
    stdio: 'ignore',
    detached: true,
  });
  const stop = async () => {
    if (service.exitCode === null && service.signalCode === null) {
      const exited = new Promise((r) => service.once('exit', r));
      process.kill(-service.pid!, 'SIGTERM');
      await exited;
    }
    dir.cleanup();
  };
  const deadline = Date.now() + 30_000;
  while (!(await ping(socketPath))) {
    if (Date.now() > deadline || service.exitCode !== null) {
      await stop();
      throw new Error('podman system service did not answer within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { socketPath, stop };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}
