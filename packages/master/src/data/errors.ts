// Typed failures of the data layer, each naming the rows involved.

export class AlreadyClaimedError extends Error {
  override readonly name = 'AlreadyClaimedError';
  constructor(
    readonly buildrequestids: readonly number[],
    readonly masterid: number,
  ) {
    super(
      `master ${masterid} could not claim build requests ${buildrequestids.join(', ')}: ` +
        'at least one is already claimed or complete',
    );
  }
}

export class NotClaimedError extends Error {
  override readonly name = 'NotClaimedError';
  constructor(
    readonly buildrequestids: readonly number[],
    readonly masterid: number,
  ) {
    super(
      `build requests ${buildrequestids.join(', ')} are not all claimed by master ${masterid} and incomplete`,
    );
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: number | string,
  ) {
    super(`${entity} ${JSON.stringify(id)} does not exist`);
  }
}

export class LogClosedError extends Error {
  override readonly name = 'LogClosedError';
  constructor(readonly logid: number) {
    super(`log ${logid} is already finished and cannot be appended to`);
  }
}
