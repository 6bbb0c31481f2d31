import { parseArgs } from 'node:util';
import type { MasterStatus } from '../../control/protocol.js';
import { openControl } from '../control-client.js';
import { masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT } from '../usage.js';

const help = `Usage: lathe status [options] [dir]

Asks the running master of dir, over its control port, for its workers
(connected, idle or busy, what they reported), running builds (with their
estimated finish once the builder has history), pending build requests,
schedulers (with their next run, when one is due), reporters (backlog, last error)
and every master sharing its database (last heartbeat, the scheduler and change
source leases it holds).

Options:
  --json      print the status as JSON
  -h, --help  show this help
`;

export const statusCommand: Command = {
  help,
  summary: 'show workers, running builds, pending requests, schedulers and reporters',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    const dir = masterDir(atMostOneDir(positionals, help));
    const session = await openControl(dir);
    try {
      const status = await session.avatar.callRemote<MasterStatus>('status');
      io.out(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
      return EXIT.OK;
    } finally {
      session.close();
    }
  },
};

const INFO_KEYS = ['host', 'admin', 'version', 'os_pretty_name', 'numcpus'];

function ago(epoch: number, now: number): string {
  const s = Math.max(0, Math.round(now - epoch));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** `ETA 12:34:56 (in 1m20s)`, in the local time of whoever runs `lathe status`. */
export function formatEta(eta: number, now: number): string {
  const at = new Date(eta * 1000);
  const clock = [at.getHours(), at.getMinutes(), at.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  const left = Math.round(eta - now);
  // An estimate already passed is still worth showing: the build runs late.
  return left >= 0 ? `ETA ${clock} (in ${duration(left)})` : `ETA ${clock} (overdue by ${duration(-left)})`;
}

/** `2026-12-05 03:00:00 (in 10h32m)`, in the local time of whoever runs `lathe status`. */
export function formatRunTime(at: number, now: number): string {
  const d = new Date(at * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const when = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const left = Math.round(at - now);
  return left >= 0 ? `${when} (in ${duration(left)})` : `${when} (due)`;
}

function duration(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatStatus(st: MasterStatus, now = Date.now() / 1000): string {
  const lines: string[] = [];
  lines.push(
    `master ${st.name} (pid ${st.pid}), up ${ago(st.startedAt, now)}, ` +
      `${st.accepting ? 'accepting builds' : 'shutting down'}` +
      `${st.canRunBuilds ? '' : st.roles && !st.roles.includes('builds') ? ' (runs no builds: roles)' : ' (no build runner attached: requests stay pending)'}`,
  );
  lines.push(`workers (${st.workers.length}):`);
  for (const w of st.workers) {
    const slots = `${w.runningBuilds}/${w.maxBuilds ?? '∞'} builds`;
    // Workers report a lot (a stock buildbot-worker sends its whole os-release); the line
    // shows what identifies the machine, --json has everything.
    const info = INFO_KEYS.filter((k) => typeof w.info[k] === 'string' || typeof w.info[k] === 'number')
      .map((k) => `${k}=${String(w.info[k]).trim()}`)
      .join(', ');
    const failed = w.latent?.lastError ? `  last start failed: ${w.latent.lastError}` : '';
    lines.push(`  ${w.name.padEnd(20)} ${w.state.padEnd(12)} ${slots}${info ? `  ${info}` : ''}${failed}`);
  }
  lines.push(`running builds (${st.builds.length}):`);
  for (const b of st.builds) {
    const eta = typeof b.eta === 'number' ? `, ${formatEta(b.eta, now)}` : '';
    const step = b.currentStep === null ? '' : `, step ${JSON.stringify(b.currentStep)}`;
    lines.push(
      `  ${b.builder} #${b.number} (build id ${b.buildid}) on ${b.worker ?? '?'}, ${ago(b.startedAt, now)}${step}: ${b.state}${eta}`,
    );
  }
  lines.push(`pending requests (${st.pending.length}):`);
  for (const r of st.pending)
    lines.push(
      `  request ${r.buildrequestid} for ${r.builder} (buildset ${r.buildsetid}, priority ${r.priority}), waiting ${ago(r.submittedAt, now)}`,
    );
  // A master older than the schedulers' status sends none.
  const schedulers = st.schedulers ?? [];
  lines.push(`schedulers (${schedulers.length}):`);
  for (const s of schedulers) {
    const next = s.nextRunAt === null ? 'no run due' : `next run ${formatRunTime(s.nextRunAt, now)}`;
    lines.push(`  ${s.name.padEnd(20)} ${s.kind.padEnd(22)} ${next}  builders: ${s.builderNames.join(', ')}`);
  }
  const reporters = st.reporters ?? [];
  lines.push(`reporters (${reporters.length}):`);
  for (const r of reporters) {
    const error =
      r.lastError === null || r.failedAttempts === 0
        ? ''
        : `, failing (${r.failedAttempts} attempts, last ${ago(r.lastErrorAt ?? now, now)} ago): ${r.lastError}`;
    lines.push(`  ${r.name.padEnd(20)} backlog ${r.backlog}, delivered ${r.delivered}${error}`);
  }
  const masters = st.masters ?? [];
  lines.push(`masters (${masters.length}), this one with roles ${(st.roles ?? []).join(', ')}:`);
  for (const m of masters) {
    const state = m.active
      ? `heartbeat ${ago(m.lastHeartbeat, now)} ago`
      : `stopped, last seen ${ago(m.lastHeartbeat, now)} ago`;
    const owns = m.owns.length > 0 ? `owns ${m.owns.join(', ')}` : 'owns nothing';
    lines.push(`  ${m.masterid === st.masterid ? '*' : ' '} ${m.name} (id ${m.masterid}): ${state}; ${owns}`);
  }
  return lines.join('\n');
}
