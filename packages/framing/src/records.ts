import { decodeFrames } from './decode.js';
import { FrameDecoder } from './decoder.js';
import { FramingError } from './errors.js';
import { type DecodeOptions, FRAME_HEADER_BYTES } from './options.js';

/**
 * The media type of a body of records: the frames of section 2, each payload one encoded record.
 */
export const RECORDS_CONTENT_TYPE = 'application/vnd.kafka-proxy.records.v1';

/** One Kafka record header. Names are UTF-8 text; a value may be null. */
export interface RecordHeader {
  name: string;
  value: Uint8Array | null;
}

/**
 * One Kafka record as a records body carries it. A null `value` is a tombstone (it deletes `key`
 * in a compacted topic); a null `timestamp` lets Kafka set the time.
 */
export interface ProxyRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  /** Milliseconds since the epoch, or null. */
  timestamp: number | null;
}

/** The field of a record that is wrong, as {@link RecordError.field} names it. */
export type RecordField =
  | 'timestamp'
  | 'key_length'
  | 'key'
  | 'header_count'
  | 'header_name_length'
  | 'header_name'
  | 'header_value_length'
  | 'header_value'
  | 'value_length'
  | 'value'
  | 'trailing_bytes';

/**
 * A frame whose payload is not one well-formed record: `code` is always `malformed_record`,
 * `frameIndex` and `offset` locate the frame as for any {@link FramingError}, `field` names what
 * is wrong and `position` the byte inside the record where that field starts.
 *
 * @example
 * ```ts
 * try {
 *   decodeRecords(body);
 * } catch (error) {
 *   if (error instanceof RecordError) console.log(error.frameIndex, error.field);
 * }
 * ```
 */
export class RecordError extends FramingError {
  readonly field: RecordField;
  readonly position: number;

  constructor(
    field: RecordField,
    problem: string,
    location: { frameIndex: number; offset: number; position: number },
  ) {
    super(
      'malformed_record',
      `frame ${location.frameIndex} at byte offset ${location.offset} is not a valid record: ` +
        `${problem} (${field} at byte ${location.position} of the record)`,
      location,
    );
    this.name = 'RecordError';
    this.field = field;
    this.position = location.position;
  }
}

// timestamp:i64, keyLen:i32, headerCount:i32, valueLen:i32.
const FIXED_BYTES = 8 + 4 + 4 + 4;
// nameLen:i32 + valueLen:i32: the least a header can take, which bounds a declared count.
const MIN_HEADER_BYTES = 8;
const NULL_LENGTH = -1;
const NULL_TIMESTAMP = -1n;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** `bytes` as text, or undefined when they are not UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A cursor over one record's payload that reports errors with the frame's location. */
class RecordReader {
  #position = 0;
  readonly #view: DataView;

  constructor(
    private readonly payload: Uint8Array,
    private readonly frameIndex: number,
    private readonly offset: number,
  ) {
    this.#view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }

  get position(): number {
    return this.#position;
  }

  get remaining(): number {
    return this.payload.length - this.#position;
  }

  fail(field: RecordField, problem: string, position = this.#position): never {
    throw new RecordError(field, problem, {
      frameIndex: this.frameIndex,
      offset: this.offset,
      position,
    });
  }

  #need(field: RecordField, bytes: number): void {
    if (this.remaining < bytes) {
      this.fail(field, `the record ends after ${this.remaining} of its ${bytes} bytes`);
    }
  }

  timestamp(): number | null {
    this.#need('timestamp', 8);
    const value = this.#view.getBigInt64(this.#position, true);
    if (value !== NULL_TIMESTAMP && (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER))) {
      this.fail('timestamp', `timestamp ${value} is neither -1 nor a time in milliseconds`);
    }
    this.#position += 8;
    return value === NULL_TIMESTAMP ? null : Number(value);
  }

  int32(field: RecordField): number {
    this.#need(field, 4);
    const value = this.#view.getInt32(this.#position, true);
    this.#position += 4;
    return value;
  }

  /** A length-prefixed byte string; null for length -1 unless `nullable` is false. */
  bytes(lengthField: RecordField, field: RecordField, nullable: boolean): Uint8Array | null {
    const at = this.#position;
    const length = this.int32(lengthField);
    if (length === NULL_LENGTH && nullable) return null;
    if (length < 0) {
      this.fail(
        lengthField,
        `length ${length} is ${nullable ? 'neither -1 nor ' : 'not '}a size`,
        at,
      );
    }
    if (length > this.remaining) {
      this.fail(field, `${length} bytes declared, ${this.remaining} left in the frame`);
    }
    const bytes = this.payload.subarray(this.#position, this.#position + length);
    this.#position += length;
    return bytes;
  }
}

/**
 * Decodes one record from a frame's payload: every field must be present and the fields must add
 * up exactly to the payload. Keys and values are views into `payload`, not copies.
 *
 * @param location where the frame is, for the error (frame 0 at byte 0 by default)
 * @throws RecordError when the payload is not exactly one record
 *
 * @example
 * ```ts
 * const record = decodeRecord(payload);
 * record.value === null; // a tombstone
 * ```
 */
export function decodeRecord(
  payload: Uint8Array,
  location: { frameIndex: number; offset: number } = { frameIndex: 0, offset: 0 },
): ProxyRecord {
  const reader = new RecordReader(payload, location.frameIndex, location.offset);
  const timestamp = reader.timestamp();
  const key = reader.bytes('key_length', 'key', true);
  const countAt = reader.position;
  const count = reader.int32('header_count');
  if (count < 0) reader.fail('header_count', `header count ${count} is negative`, countAt);
  // Checked before any header is read: a bad count must not make the decoder loop or allocate.
  if (count > (reader.remaining - 4) / MIN_HEADER_BYTES) {
    reader.fail(
      'header_count',
      `${count} headers cannot fit the ${reader.remaining} bytes left`,
      countAt,
    );
  }
  const headers: RecordHeader[] = [];
  for (let i = 0; i < count; i++) {
    const nameAt = reader.position + 4;
    const name = reader.bytes('header_name_length', 'header_name', false) as Uint8Array;
    const text =
      utf8(name) ?? reader.fail('header_name', `header ${i}'s name is not UTF-8`, nameAt);
    headers.push({ name: text, value: reader.bytes('header_value_length', 'header_value', true) });
  }
  const value = reader.bytes('value_length', 'value', true);
  if (reader.remaining > 0) {
    reader.fail('trailing_bytes', `${reader.remaining} bytes follow the value`);
  }
  return { key, value, headers, timestamp };
}

/** The UTF-8 length of `text`, without encoding it (a lone surrogate counts as U+FFFD, 3). */
function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 4;
      i += 1;
    } else length += 3;
  }
  return length;
}

/**
 * The size of `record` encoded as a frame's payload: what a records body's frame holds for it,
 * and what a message size limit counts.
 *
 * @example
 * ```ts
 * recordSize({ key: null, value: new Uint8Array(10), headers: [], timestamp: null }); // 30
 * ```
 */
export function recordSize(record: ProxyRecord): number {
  let size = FIXED_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) {
    size += MIN_HEADER_BYTES + utf8Length(header.name) + (header.value?.length ?? 0);
  }
  return size;
}

function checkRecord(record: ProxyRecord, index: number): void {
  const { timestamp } = record;
  if (timestamp !== null && !(Number.isSafeInteger(timestamp) && timestamp >= 0)) {
    throw new RangeError(`record ${index}: timestamp must be null or whole milliseconds >= 0`);
  }
  for (const [name, bytes] of [
    ['key', record.key],
    ['value', record.value],
  ] as const) {
    if (bytes !== null && !(bytes instanceof Uint8Array)) {
      throw new TypeError(`record ${index}: ${name} must be a Uint8Array or null`);
    }
  }
}

/**
 * Encodes one record as a frame's payload (without the frame's length prefix).
 *
 * @example
 * ```ts
 * const payload = encodeRecord({ key, value, headers: [], timestamp: null });
 * ```
 */
export function encodeRecord(record: ProxyRecord): Uint8Array<ArrayBuffer> {
  return writeRecords([record], false);
}

/**
 * Encodes records as a records body (`application/vnd.kafka-proxy.records.v1`): one frame per
 * record, allocated once.
 *
 * @example
 * ```ts
 * const body = encodeRecords([{ key: utf8('user-1'), value, headers: [], timestamp: null }]);
 * await fetch(url, { method: 'POST', body, headers: { 'content-type': RECORDS_CONTENT_TYPE } });
 * ```
 */
export function encodeRecords(records: Iterable<ProxyRecord>): Uint8Array<ArrayBuffer> {
  return writeRecords(Array.from(records), true);
}

function writeRecords(records: ProxyRecord[], framed: boolean): Uint8Array<ArrayBuffer> {
  const names = records.map((record, index) => {
    checkRecord(record, index);
    return record.headers.map(({ name }) => utf8Encoder.encode(name));
  });
  const sizes = records.map(recordSize);
  const header = framed ? FRAME_HEADER_BYTES : 0;
  const body = new Uint8Array(sizes.reduce((sum, size) => sum + header + size, 0));
  const view = new DataView(body.buffer);
  let at = 0;
  const int32 = (n: number): void => {
    view.setInt32(at, n, true);
    at += 4;
  };
  const bytes = (b: Uint8Array | null): void => {
    int32(b === null ? NULL_LENGTH : b.length);
    if (b !== null) body.set(b, at);
    at += b?.length ?? 0;
  };
  for (const [i, record] of records.entries()) {
    if (framed) int32(sizes[i] as number);
    view.setBigInt64(
      at,
      record.timestamp === null ? NULL_TIMESTAMP : BigInt(record.timestamp),
      true,
    );
    at += 8;
    bytes(record.key);
    int32(record.headers.length);
    for (const [h, { value }] of record.headers.entries()) {
      bytes((names[i] as Uint8Array[])[h] as Uint8Array);
      bytes(value);
    }
    bytes(record.value);
  }
  return body;
}

/**
 * Decodes a whole records body: frames as {@link decodeFrames} reads them, each payload one
 * record.
 *
 * @throws FramingError for a malformed frame, RecordError for a malformed record
 */
export function decodeRecords(body: Uint8Array, options?: DecodeOptions): ProxyRecord[] {
  let offset = 0;
  return decodeFrames(body, options).map((payload, frameIndex) => {
    const record = decodeRecord(payload, { frameIndex, offset });
    offset += FRAME_HEADER_BYTES + payload.length;
    return record;
  });
}

/**
 * Decodes a records body incrementally, like {@link FrameDecoder}: `push` each chunk as it
 * arrives and get the records completed by it; `end` once the body is over.
 *
 * @example
 * ```ts
 * const decoder = new RecordDecoder({ maxMessageBytes: 1 << 20 });
 * for await (const chunk of body) records.push(...decoder.push(chunk));
 * decoder.end();
 * ```
 */
export class RecordDecoder {
  readonly #frames: FrameDecoder;
  #offset = 0;
  #failure: RecordError | undefined;

  constructor(options?: DecodeOptions) {
    this.#frames = new FrameDecoder(options);
  }

  /** Records completed by `chunk`, in order. @throws FramingError, RecordError */
  push(chunk: Uint8Array): ProxyRecord[] {
    if (this.#failure) throw this.#failure;
    const first = this.#frames.framesDecoded;
    try {
      return this.#frames.push(chunk).map((payload, i) => {
        const record = decodeRecord(payload, { frameIndex: first + i, offset: this.#offset });
        this.#offset += FRAME_HEADER_BYTES + payload.length;
        return record;
      });
    } catch (error) {
      if (error instanceof RecordError) this.#failure = error;
      throw error;
    }
  }

  /** @throws FramingError when the body ended inside a frame, or after a malformed record */
  end(): void {
    if (this.#failure) throw this.#failure;
    this.#frames.end();
  }
}
