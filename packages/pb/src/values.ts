/**
 * JavaScript stand-ins for the Python values that have no exact JavaScript twin.
 *
 * The mapping (documented in full in the package README) is chosen so that every
 * value survives a round trip through a Python peer unchanged:
 *
 * | Python            | JavaScript                                  |
 * |-------------------|---------------------------------------------|
 * | None              | null (undefined is sent as None too)        |
 * | bool              | boolean                                     |
 * | int               | number when safe, else bigint               |
 * | float             | number; an integral float is a PyFloat      |
 * | bytes             | Uint8Array (decoded as Buffer)              |
 * | str               | string                                      |
 * | list              | Array                                       |
 * | tuple             | PyTuple (an Array subclass)                 |
 * | dict, text keys   | plain object                                |
 * | dict, other keys  | Map                                         |
 * | set / frozenset   | Set / PyFrozenSet                           |
 * | datetime & co.    | PyDateTime, PyDate, PyTime, PyTimedelta     |
 * | decimal.Decimal   | PyDecimal                                   |
 */

/**
 * A Python float whose value happens to be integral (1.0, -0.0, 1e20). JavaScript
 * has one number type, so without this wrapper `1.0` would come back as the int 1.
 * Non-integral floats are plain numbers. `valueOf` makes arithmetic work.
 */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return Number.isInteger(this.value) && !Object.is(this.value, -0)
      ? `${this.value}.0`
      : String(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/** Wraps a number so it is always sent as a Python float, even when integral. */
export function float(value: number): PyFloat | number {
  return Number.isInteger(value) ? new PyFloat(value) : value;
}

/** A Python tuple. Arrays are sent as lists; use `tuple(...)` where a peer expects a tuple. */
export class PyTuple<T = unknown> extends Array<T> {
  static override get [Symbol.species]() {
    return Array;
  }
}

export function tuple<T>(...items: T[]): PyTuple<T> {
  const t = new PyTuple<T>();
  for (const item of items) t.push(item);
  return t;
}

/** A Python frozenset. */
export class PyFrozenSet<T = unknown> extends Set<T> {}

/** A naive `datetime.datetime`. Months and days count from 1, as in Python. */
export class PyDateTime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour = 0,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
  ) {}
  /** Interprets the naive value as UTC. */
  toDate(): Date {
    return new Date(
      Date.UTC(
        this.year,
        this.month - 1,
        this.day,
        this.hour,
        this.minute,
        this.second,
        this.microsecond / 1000,
      ),
    );
  }
}

export class PyDate {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
  ) {}
}

export class PyTime {
  constructor(
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond = 0,
  ) {}
}

export class PyTimedelta {
  constructor(
    readonly days: number,
    readonly seconds: number,
    readonly microseconds = 0,
  ) {}
}

/** `decimal.Decimal` as Jelly sends it: value = digits × 10^exponent. */
export class PyDecimal {
  constructor(
    readonly digits: bigint,
    readonly exponent: number,
  ) {}
  toString(): string {
    const neg = this.digits < 0n;
    let s = (neg ? -this.digits : this.digits).toString();
    if (this.exponent >= 0) s += '0'.repeat(this.exponent);
    else {
      const point = s.length + this.exponent;
      s = point > 0 ? `${s.slice(0, point)}.${s.slice(point)}` : `0.${'0'.repeat(-point)}${s}`;
    }
    return neg ? `-${s}` : s;
  }
}

/** What a peer sent in place of an object it could not serialize. */
export class Unpersistable {
  constructor(readonly reason: string) {}
}
