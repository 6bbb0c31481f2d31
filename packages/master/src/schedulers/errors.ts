// Errors of schedulers in general.

/** A reconfig gave a scheduler of one kind the config of another. */
export class SchedulerKindChangedError extends Error {
  override readonly name = 'SchedulerKindChangedError';
  constructor(
    readonly scheduler: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(
      `scheduler ${JSON.stringify(scheduler)} cannot change from ${from} to ${to} in a reconfig; rename it or restart`,
    );
  }
}
