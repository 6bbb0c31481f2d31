// The child half of isolated-evaluation.ts: runs the config named in argv, then keeps
// running for the grace period given in argv so that a timer or callback the config left
// behind can throw here rather than in the master. Replies over the IPC channel with one
// EvaluationReply, then exits.
//
// The IPC channel is unref'd: a config awaiting a promise that nothing can ever settle
// leaves the event loop empty, and Node ends this process with exit code 13 ("unsettled
// top-level await"), which the parent reports as such.
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from './errors.js';
import { importConfig, runtimeIssue } from './import-config.js';
import type { EvaluationReply } from './isolated-evaluation.js';

const [file, graceArg] = process.argv.slice(2) as [string, string];
const graceMs = Number(graceArg);
let loaded = false;
let replied = false;

function reply(message: EvaluationReply): void {
  if (replied) return;
  replied = true;
  process.send?.(message, () => process.exit(0));
}

function late(err: unknown): void {
  const issue = runtimeIssue(err, file);
  const when = loaded ? 'after loading' : 'while loading';
  reply({
    ok: false,
    issues: [{ ...issue, message: `${when}, a timer or callback threw: ${issue.message}` }],
  });
}
process.on('uncaughtException', late);
process.on('unhandledRejection', late);
process.channel?.unref();

let issues: readonly ConfigIssue[] | null = null;
try {
  await importConfig(file, readFileSync(file, 'utf8'));
} catch (err) {
  issues = err instanceof ConfigError ? err.issues : [runtimeIssue(err, file)];
}
if (issues) {
  reply({ ok: false, issues });
} else {
  loaded = true;
  process.send?.({ loaded: true });
  setTimeout(() => reply({ ok: true }), graceMs);
}
