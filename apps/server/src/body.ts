import { Readable, type Transform, type TransformOptions } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, type ZlibOptions } from 'node:zlib';
import { decodeRecord, FrameDecoder, FramingError, RecordError, recordSize } from '@kproxy/framing';
import { CONTENT_TYPES } from '@kproxy/protocol';
import type { Reservation } from './buffer-budget.js';
import { ProxyError } from './errors.js';
import { parseJsonRecords, type JsonEmbedding } from './json-records.js';
import { messageBytes, type Message } from './producer.js';

/** Size limits, applied to the decoded (decompressed) body. */
export interface BodyLimits {
  maxBodyBytes: number;
  maxMessageBytes: number;
  /** Most messages one body may hold (empty messages cost memory too). */
  maxMessages: number;
}

/**
 * What each message is charged against the buffer bound on top of its payload: its `Uint8Array`
 * view and its place in the batch. Without it a body of empty frames (4 bytes each on the wire)
 * would hold memory the bound never sees.
 */
export const MESSAGE_OVERHEAD_BYTES = 64;

/** The messages of a fully read and validated body. */
export interface FramedBody {
  /** Values (a framed body) or records (a records or JSON body), in request order. */
  messages: Message[];
  /** Sum of message payload sizes (what Kafka stores; frame headers excluded). */
  bytes: number;
  /** JSON bodies: the partition each record asked for, if any (undefined when none did). */
  partitions?: (number | undefined)[] | undefined;
  /**
   * The memory the messages are views into, where it is the server's alone: the chunks Node's
   * HTTP parser (or a decompressor) handed over whole, and frames put back together from pieces
   * of several. {@link freeBody} gives it back once every message is in Kafka, instead of when the
   * garbage collector gets to it. Absent for a web stream's body, whose chunks may be the
   * caller's.
   */
  buffers?: ArrayBuffer[] | undefined;
}

/** True when `view` covers the whole of an `ArrayBuffer` of its own (not a pool's slice). */
function wholeBuffer(view: Uint8Array): view is Uint8Array<ArrayBuffer> {
  return (
    view.buffer instanceof ArrayBuffer &&
    view.byteOffset === 0 &&
    view.byteLength === view.buffer.byteLength
  );
}

/**
 * Gives a body's memory back to the allocator at once (each buffer detached; its messages read
 * as empty from then on). Called when every message of the body is in Kafka: under load the
 * bodies otherwise outlive a scavenge or two while Kafka answers, and stay until the next full
 * collection, which is what sets a loaded proxy's peak memory.
 */
export function freeBody(buffers: readonly ArrayBuffer[]): void {
  for (const buffer of buffers) if (!buffer.detached) buffer.transfer(0);
}

/**
 * How a produce body is written: the original frames of values, frames of records, or the
 * Confluent-v2-compatible JSON of records with base64 (`binary`) or JSON (`json`) keys and values.
 */
export type BodyFormat = 'frames' | 'records' | JsonEmbedding;

const FORMATS: Record<string, BodyFormat | undefined> = {
  [CONTENT_TYPES.frames]: 'frames',
  [CONTENT_TYPES.records]: 'records',
  [CONTENT_TYPES.binaryV2]: 'binary',
  [CONTENT_TYPES.jsonV2]: 'json',
};

/**
 * How far the decompression streams read ahead: a fixed size, not Node's default (64 KiB since
 * Node 22), so that compressed input is pulled in only a little beyond what the limit has seen.
 */
const READ_AHEAD_BYTES = 8 * 1024;

type CreateDecoder = () => Transform;
// Node's zlib streams take stream options too; its types list only zlib's own.
const streamOptions: ZlibOptions & TransformOptions = { highWaterMark: READ_AHEAD_BYTES };
const DECODERS: Record<string, CreateDecoder | undefined> = {
  gzip: () => createGunzip(streamOptions),
  'x-gzip': () => createGunzip(streamOptions),
  deflate: () => createInflate(streamOptions),
  br: () => createBrotliDecompress(streamOptions),
};

/**
 * The format of a produce body, from its `Content-Type`; throws 415 for any other type, and for
 * the JSON formats where `json` is false (they need the topic in the path).
 */
export function bodyFormat(
  contentType: string | null | undefined,
  { json }: { json: boolean },
): BodyFormat {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const format = Object.hasOwn(FORMATS, type) ? FORMATS[type] : undefined;
  if (format === 'frames' || format === 'records' || (format !== undefined && json)) return format;
  const got =
    contentType === null || contentType === undefined ? 'none' : JSON.stringify(contentType);
  if (format !== undefined) {
    throw new ProxyError(
      'unsupported_media_type',
      `Content-Type ${got} is accepted on POST /topics/{topic} only: JSON records name their topic in the path`,
    );
  }
  const accepted: string[] = [CONTENT_TYPES.frames, CONTENT_TYPES.records];
  if (json) accepted.push(CONTENT_TYPES.binaryV2, CONTENT_TYPES.jsonV2);
  throw new ProxyError(
    'unsupported_media_type',
    `Content-Type must be ${accepted.join(', ')} (got ${got})`,
  );
}

/** The decompressor for a `Content-Encoding`, `undefined` for identity; throws 415 otherwise. */
export function decoderFor(
  contentEncoding: string | null | undefined,
): (() => Transform) | undefined {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return undefined;
  const decoder = DECODERS[encoding];
  if (decoder === undefined) {
    throw new ProxyError(
      'unsupported_encoding',
      `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported: use gzip, deflate, br or none`,
    );
  }
  return decoder;
}

function tooLarge(limit: number): ProxyError {
  return new ProxyError(
    'body_too_large',
    `the decoded body is larger than ${limit} bytes (KAFKA_PROXY_MAX_BODY_BYTES)`,
  );
}

/**
 * A request body: the Node request itself under `@hono/node-server` (read directly, no web-stream
 * adapters), or the web `Request.body` elsewhere (`app.request()` in tests).
 */
export type BodySource = ReadableStream<Uint8Array> | Readable;

/**
 * Reads a Node stream without destroying it when the reader stops early: destroying an
 * `IncomingMessage` destroys its socket, and the error response must still reach the client; the
 * HTTP layer drains or closes the connection after the response.
 */
async function* nodeChunks(body: Readable): AsyncGenerator<Uint8Array> {
  for await (const chunk of body.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
}

/**
 * Decompresses lazily: zlib only inflates as far as the consumer reads, so stopping at the body
 * limit stops a decompression bomb after at most one zlib chunk past the limit.
 */
async function* decoded(
  chunks: AsyncIterable<Uint8Array>,
  createDecoder: (() => Transform) | undefined,
): AsyncGenerator<Uint8Array> {
  if (createDecoder === undefined) {
    yield* chunks;
    return;
  }
  const source = Readable.from(chunks, { objectMode: false, highWaterMark: READ_AHEAD_BYTES });
  const decoder = createDecoder();
  source.on('error', (error) => decoder.destroy(error));
  source.pipe(decoder);
  try {
    for await (const chunk of decoder) yield chunk as Buffer;
  } catch (error) {
    if (error instanceof ProxyError) throw error;
    throw new ProxyError(
      'bad_request',
      `the body could not be decompressed: ${(error as Error).message}`,
    );
  } finally {
    source.destroy();
    decoder.destroy();
  }
}

/**
 * The decoded (decompressed) chunks of a produce body, after the checks its headers allow: the
 * encoding is one the server decodes, a declared length within the body limit, a body at all.
 */
function openBody(
  body: BodySource | null,
  headers: { get(name: string): string | null | undefined },
  limits: BodyLimits,
  hint: string,
): AsyncGenerator<Uint8Array> {
  const createDecoder = decoderFor(headers.get('content-encoding'));
  const declared = Number(headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes)
    throw tooLarge(limits.maxBodyBytes);
  if (body === null) throw new ProxyError('empty_body', `the body is empty: ${hint}`);
  // A web stream's own iterator cancels it when the reader stops early; the HTTP layer then
  // drains or closes the connection after the response.
  return decoded(body instanceof Readable ? nodeChunks(body) : body, createDecoder);
}

/**
 * Reads a produce request's body as it streams in, decoding frames on the way: the limits are
 * checked against decoded bytes before they accumulate, the bytes held are reserved against the
 * buffer bound chunk by chunk (including a frame still arriving, so slow uploads of large frames
 * cannot hold memory the bound never sees), and the whole body must be valid before anything is
 * returned. A body it rejects has its reservation released.
 *
 * @throws ProxyError `empty_body`, `truncated_frame` (400), `body_too_large`,
 *   `message_too_large`, `too_many_messages` (413), `buffer_full` (503).
 */
export async function readFramedBody(
  body: BodySource | null,
  headers: { get(name: string): string | null | undefined },
  limits: BodyLimits,
  reservation: Reservation,
  format: BodyFormat = 'frames',
): Promise<FramedBody> {
  if (format === 'binary' || format === 'json') {
    return readJsonBody(body, headers, limits, reservation, format);
  }
  const stream = openBody(body, headers, limits, 'send at least one frame');
  const decoder = new FrameDecoder({ maxMessageBytes: limits.maxMessageBytes });
  const messages: Message[] = [];
  const buffers = body instanceof Readable ? ([] as ArrayBuffer[]) : undefined;
  const spent: ArrayBuffer[] = [];
  const records = format === 'records';
  let bytes = 0;
  let total = 0;
  // Where the next frame starts, for a malformed record's error.
  let frameOffset = 0;
  try {
    for await (const chunk of stream) {
      total += chunk.byteLength;
      if (total > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes);
      const completed = decoder.push(chunk);
      if (messages.length + completed.length > limits.maxMessages) {
        throw new ProxyError(
          'too_many_messages',
          `the body holds more than ${limits.maxMessages} messages (KAFKA_PROXY_MAX_BODY_MESSAGES)`,
        );
      }
      // Charged is what the request holds: every chunk from its arrival (messages are views into
      // it, and a frame still arriving is too), each frame reassembled from pieces of several
      // chunks (a copy), and each message's own overhead.
      let size = 0;
      let copied = 0;
      let viewed = false;
      for (const message of completed) {
        size += message.byteLength;
        if (message.buffer === chunk.buffer) {
          viewed = true;
          continue;
        }
        copied += message.byteLength;
        if (buffers !== undefined && wholeBuffer(message)) buffers.push(message.buffer);
      }
      // A chunk no message is a view into (its bytes all went into frames put back together) is
      // freed once the decoder is done with it: when a later chunk completes a frame, no frame
      // still arriving holds a piece of it.
      if (completed.length > 0 && spent.length > 0) freeBody(spent.splice(0));
      if (buffers !== undefined && wholeBuffer(chunk))
        (viewed ? buffers : spent).push(chunk.buffer);
      reservation.grow(chunk.byteLength + copied + completed.length * MESSAGE_OVERHEAD_BYTES);
      if (!records) {
        bytes += size;
        for (const message of completed) messages.push(message);
        continue;
      }
      for (const payload of completed) {
        const record = decodeRecord(payload, { frameIndex: messages.length, offset: frameOffset });
        frameOffset += 4 + payload.byteLength;
        bytes += messageBytes(record);
        messages.push(record);
      }
    }
    decoder.end();
    freeBody(spent);
    if (total === 0)
      throw new ProxyError('empty_body', 'the body is empty: send at least one frame');
  } catch (error) {
    // Nothing of a rejected body is kept: its bytes go back to the budget at once.
    reservation.release();
    throw fromFramingError(error, limits);
  } finally {
    await stream.return(undefined);
  }
  return { messages, bytes, buffers };
}

function fromFramingError(error: unknown, limits: BodyLimits): unknown {
  if (error instanceof ProxyError) return error;
  if (!(error instanceof FramingError)) {
    // The client went away or the connection broke mid-upload: its fault, not the server's.
    return new ProxyError(
      'bad_request',
      `the request body could not be read: ${String((error as Error).message ?? error)}`,
    );
  }
  if (error instanceof RecordError) return new ProxyError('malformed_record', error.message);
  if (error.code === 'message_too_large') {
    return new ProxyError(
      'message_too_large',
      `frame ${error.frameIndex} at byte offset ${error.offset} is larger than ${limits.maxMessageBytes} bytes (KAFKA_PROXY_MAX_MESSAGE_BYTES)`,
    );
  }
  return new ProxyError(
    'truncated_frame',
    `the body ends inside frame ${error.frameIndex}, which starts at byte offset ${error.offset}`,
  );
}

/**
 * A JSON body, read whole (it is parsed as one document) within the same limits and reservation as
 * a framed body: its bytes as they arrive, then each record parsed from it.
 */
async function readJsonBody(
  body: BodySource | null,
  headers: { get(name: string): string | null | undefined },
  limits: BodyLimits,
  reservation: Reservation,
  embedding: JsonEmbedding,
): Promise<FramedBody> {
  const stream = openBody(body, headers, limits, 'send {"records": [...]}');
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += chunk.byteLength;
      if (total > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes);
      reservation.grow(chunk.byteLength);
      chunks.push(chunk);
    }
    if (total === 0)
      throw new ProxyError('empty_body', 'the body is empty: send {"records": [...]}');
    const parsed = parseJsonRecords(Buffer.concat(chunks).toString('utf8'), embedding);
    chunks.length = 0;
    if (parsed.length > limits.maxMessages) {
      throw new ProxyError(
        'too_many_messages',
        `the body holds more than ${limits.maxMessages} records (KAFKA_PROXY_MAX_BODY_MESSAGES)`,
      );
    }
    let bytes = 0;
    const messages: Message[] = [];
    const partitions: (number | undefined)[] = [];
    for (const [index, { partition, ...record }] of parsed.entries()) {
      // As for a records body, the limit counts the whole encoded record.
      if (recordSize(record) > limits.maxMessageBytes) {
        throw new ProxyError(
          'message_too_large',
          `record ${index} is larger than ${limits.maxMessageBytes} bytes (KAFKA_PROXY_MAX_MESSAGE_BYTES)`,
        );
      }
      bytes += messageBytes(record);
      messages.push(record);
      partitions.push(partition);
    }
    reservation.grow(bytes + messages.length * MESSAGE_OVERHEAD_BYTES);
    return {
      messages,
      bytes,
      partitions: partitions.some((p) => p !== undefined) ? partitions : undefined,
    };
  } catch (error) {
    reservation.release();
    throw fromFramingError(error, limits);
  } finally {
    await stream.return(undefined);
  }
}
