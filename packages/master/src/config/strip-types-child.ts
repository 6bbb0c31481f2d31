// The child half of strip-types.ts: TypeScript source on stdin, a StripReply as JSON on
// stdout. A syntax error is a reply, not a crash: the parent turns it into a config error.
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import type { StripReply } from './strip-types.js';

const source = readFileSync(0, 'utf8');
let reply: StripReply;
try {
  reply = { ok: true, code: stripTypeScriptTypes(source, { mode: 'strip' }) };
} catch (err) {
  const e = err as Error & { code?: string };
  // Node puts ":<line>" (an empty file name, as no sourceUrl is given) on the stack's first line.
  const line = /^.*:(\d+)$/.exec(e.stack?.split('\n')[0] ?? '')?.[1];
  reply = {
    ok: false,
    message: e.message,
    ...(e.code === undefined ? {} : { code: e.code }),
    ...(line === undefined ? {} : { line: Number(line) }),
  };
}
process.stdout.write(JSON.stringify(reply));
