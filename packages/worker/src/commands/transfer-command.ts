/**
 * Shared behaviour of uploadFile, uploadDirectory and downloadFile: an `rc`
 * (0, or 1 on any problem) plus an optional `stderr` line, sent at the end even
 * when interrupted; an interrupt stops the transfer at the next block.
 */
import type { Update } from '../protocol/values.js';
import { Command } from './command.js';

export abstract class TransferCommand extends Command {
  protected rc = 0;
  protected stderr: string | undefined;

  protected setError(message: string): void {
    if (this.stderr === undefined) this.stderr = message;
    this.rc = 1;
  }

  protected sendResult(): void {
    const updates: Update[] = [['rc', this.rc]];
    if (this.stderr !== undefined) updates.push(['stderr', this.stderr]);
    this.sendUpdate(updates);
  }

  protected override interrupt(): void {
    this.rc = 1;
  }
}
