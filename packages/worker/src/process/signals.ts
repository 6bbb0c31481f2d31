import { constants } from 'node:os';

const signals = constants.signals as Record<string, number>;

/** Signal number for a Buildbot signal name (`'KILL'`, `'TERM'`, also `'SIGKILL'` or `'9'`). */
export function signalNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase();
  return signals[upper.startsWith('SIG') ? upper : `SIG${upper}`];
}

/** Number for a Node.js signal name such as `'SIGKILL'`. */
export function signalNumberOf(nodeName: NodeJS.Signals): number {
  return signals[nodeName] ?? 0;
}
