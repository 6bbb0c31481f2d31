// The message queue the data API's subscribers talk to. Messages are keyed by resource
// path (`builds.42.finished`, `builders.3.builds.7.finished`) and carry the full resource.
// Every message gets the next sequence number of its queue's stream, so each topic's
// messages carry increasing sequences, and a subscriber that reconnects with the last
// position it saw gets what it missed — or a `resync` message when that is no longer
// retained (or the stream is another one: the master restarted), after which it should
// read the resources again.
//
// Nothing above this interface may assume one process: delivery may come later than
// `publish` returns, a position is an opaque (stream, seq) pair, and subscribing may take
// a round trip.

export interface MqPosition {
  /** Identifies one run of the queue; positions from another stream cannot resume. */
  readonly stream: string;
  readonly seq: number;
}

export interface MqEvent {
  readonly type: 'event';
  /** The topic the subscription matched (one of the message's topics). */
  readonly topic: string;
  /** The resource type's plural (`builds`). */
  readonly resourceType: string;
  /** What happened: `new`, `update`, `finished`, `append`, … (the topic's last segment). */
  readonly event: string;
  readonly position: MqPosition;
  readonly resource: Readonly<Record<string, unknown>>;
}

export interface MqResync {
  readonly type: 'resync';
  readonly reason: string;
  /** Where the subscription now continues from. */
  readonly position: MqPosition;
}

export type MqMessage = MqEvent | MqResync;

export interface MqSubscribeOptions {
  /** Resume after this position: missed messages are delivered first, or a resync. */
  readonly after?: MqPosition;
}

export interface MqSubscription {
  readonly patterns: readonly string[];
  unsubscribe(): void;
}

export interface MqPublication {
  readonly topics: readonly string[];
  readonly resourceType: string;
  readonly event: string;
  readonly resource: Readonly<Record<string, unknown>>;
}

export interface MessageQueue {
  publish(message: MqPublication): void;
  /**
   * A pattern has dot-separated segments, `*` for one segment, `#` for any number; it
   * matches a topic that starts with what it matches (`builders.3.builds` gets every event
   * of builder 3's builds). A message matching several patterns is delivered once, and
   * one subscription's messages arrive in position order.
   */
  subscribe(
    patterns: readonly string[],
    handler: (message: MqMessage) => void,
    options?: MqSubscribeOptions,
  ): Promise<MqSubscription>;
  /** The position of the last message published. */
  position(): MqPosition;
}

export function formatPosition(p: MqPosition): string {
  return `${p.stream}:${p.seq}`;
}

/** A position as `formatPosition` wrote it, or undefined. */
export function parsePosition(text: string): MqPosition | undefined {
  const m = /^([A-Za-z0-9_-]{1,64}):(\d{1,15})$/.exec(text);
  return m ? { stream: m[1]!, seq: Number(m[2]) } : undefined;
}
