// What `send` accepts besides bytes: a record with key, headers, timestamp and partition, checked
// here so a bad field fails the call before anything is queued.
import type { ProxyRecord, RecordHeader } from '@kproxy/framing';
import { KafkaProxyError } from './errors.js';
import { toBytes, type Message } from './message.js';

/** One Kafka record header as `send` takes it; a null value is allowed. */
export interface HeaderInput {
  name: string;
  value: Message | null;
}

/**
 * Record headers: an object (`{ source: 'web' }`), or a list of `{ name, value }` when a name
 * occurs more than once. Names are text (sent as UTF-8); values bytes, text or null.
 */
export type HeadersInput = Readonly<Record<string, Message | null>> | readonly HeaderInput[];

/**
 * A message with more than a value. `value: null` is a tombstone (it deletes `key` in a compacted
 * topic). The key decides the partition (murmur2, as Kafka's Java client) unless `partition`
 * names one; `timestamp` (milliseconds since the epoch, or a `Date`) defaults to the time Kafka
 * sets.
 *
 * @example
 * ```ts
 * await client.send({ key: 'user-1', value: '{"n":1}', headers: { source: 'web' } });
 * ```
 */
export interface ProduceRecord {
  value: Message | null;
  key?: Message | null | undefined;
  headers?: HeadersInput | undefined;
  timestamp?: number | Date | null | undefined;
  /** 0-based partition of the topic; out of range, the server answers `invalid_partition`. */
  partition?: number | undefined;
}

/** A message as the batcher holds it: a plain value, or a record that needs a records body. */
export interface Outgoing {
  /** The value as a framed body carries it (empty for a tombstone, which needs a record). */
  bytes: Uint8Array;
  /** Set when the message needs a records body: a key, headers, a timestamp or a null value. */
  record: ProxyRecord | undefined;
  partition: number | undefined;
}

const RECORD_FIELDS = ['key', 'headers', 'timestamp', 'partition'];
const MAX_PARTITION = 2 ** 31 - 1;
const EMPTY = new Uint8Array(0);
// With the `u` flag a surrogate pair is one code point, so this finds only lone halves: text that
// UTF-8 cannot carry (TextEncoder would silently replace it).
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Which message an error is about: its index in a `sendBatch`, none for a single `send`. */
export type Where = number | undefined;

/** How an error names the message: `the message`, `message 3`. Built only for an error. */
export const describeWhere = (where: Where): string =>
  where === undefined ? 'the message' : `message ${where}`;

/**
 * Whatever `send` got, as bytes and (when needed) a record; throws `invalid_option` naming the
 * message and the field that is wrong.
 */
export function toOutgoing(message: Message | ProduceRecord, where?: Where): Outgoing {
  if (typeof message === 'string' || message instanceof Uint8Array) {
    return { bytes: toBytes(message), record: undefined, partition: undefined };
  }
  if (typeof message !== 'object' || message === null || !('value' in message)) {
    const record =
      typeof message === 'object' && message !== null && RECORD_FIELDS.some((f) => f in message);
    throw new KafkaProxyError(
      'invalid_option',
      record
        ? `${describeWhere(where)} is a record without a value (use value: null for a tombstone)`
        : `${describeWhere(where)} must be a Uint8Array, Buffer, string or record, got ${describe(message)}`,
    );
  }
  const value = field(where, 'value', message.value);
  const key = message.key === undefined ? null : field(where, 'key', message.key);
  const headers = toHeaders(where, message.headers);
  const timestamp = toTimestamp(where, message.timestamp);
  const partition = toPartition(where, message.partition);
  const needsRecord = key !== null || headers.length > 0 || timestamp !== null || value === null;
  return {
    bytes: value ?? EMPTY,
    record: needsRecord ? { key, value, headers, timestamp } : undefined,
    partition,
  };
}

function toHeaders(where: Where, headers: HeadersInput | undefined): RecordHeader[] {
  if (headers === undefined) return [];
  if (typeof headers !== 'object' || headers === null) {
    throw invalid(where, `headers must be an object or an array of { name, value }`);
  }
  const list: [unknown, unknown][] = Array.isArray(headers)
    ? headers.map((h: unknown, i) => {
        if (typeof h !== 'object' || h === null) {
          throw invalid(where, `headers[${i}] must be { name, value }, got ${describe(h)}`);
        }
        const { name, value } = h as { name?: unknown; value?: unknown };
        return [name, value];
      })
    : Object.entries(headers);
  return list.map(([name, value], i) => {
    if (typeof name !== 'string' || LONE_SURROGATE.test(name)) {
      throw invalid(where, `header ${i}'s name must be a string of well-formed UTF-8 text`);
    }
    return { name, value: field(where, `header ${JSON.stringify(name)}'s value`, value) };
  });
}

function toTimestamp(where: Where, timestamp: number | Date | null | undefined): number | null {
  if (timestamp === undefined || timestamp === null) return null;
  const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw invalid(
      where,
      `timestamp must be whole milliseconds since the epoch (>= 0) or a Date, got ${describe(timestamp)}`,
    );
  }
  return ms;
}

function toPartition(where: Where, partition: number | undefined): number | undefined {
  if (partition === undefined) return undefined;
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) {
    throw invalid(where, `partition must be an integer from 0, got ${describe(partition)}`);
  }
  return partition;
}

/** A key, value or header value: bytes, text (as UTF-8) or null. */
function field(where: Where, name: string, value: unknown): Uint8Array | null {
  if (value === null) return null;
  if (typeof value === 'string' || value instanceof Uint8Array) return toBytes(value);
  throw invalid(
    where,
    `${name} must be a Uint8Array, Buffer, string or null, got ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date';
  return Array.isArray(value) ? 'an array' : typeof value;
}

function invalid(where: Where, problem: string): KafkaProxyError {
  return new KafkaProxyError('invalid_option', `${describeWhere(where)}: ${problem}`);
}
