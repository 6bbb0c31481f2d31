/**
 * The worker's diagnostic log (not build output). The daemon points it at its
 * rotating log file; by default it goes to stderr. Tests can silence it.
 */
export type LogSink = (line: string) => void;

let sink: LogSink = (line) => process.stderr.write(`${line}\n`);

export function setLogSink(next: LogSink): void {
  sink = next;
}

export function logMessage(message: string): void {
  try {
    sink(`${new Date().toISOString()} ${message}`);
  } catch {
    // A full disk or a vanished log file must not take builds down with it.
  }
}
