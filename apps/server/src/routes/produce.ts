import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { ProxyRecord } from '@kproxy/framing';
import {
  ACK_MODES,
  HEADERS,
  ROUTES,
  type AckMode,
  type OffsetsReply,
  type ProduceReply,
  type RecordOffset,
} from '@kproxy/protocol';
import type { Context, Hono } from 'hono';
import {
  bodyFormat,
  freeBody,
  MESSAGE_OVERHEAD_BYTES,
  readFramedBody,
  type BodyFormat,
  type FramedBody,
} from '../body.js';
import type { Reservation } from '../buffer-budget.js';
import type { AppEnv, ServerContext } from '../context.js';
import { withDeadline } from '../deadline.js';
import { ProxyError } from '../errors.js';
import { ackTimeout, type Delivery } from '../flusher.js';
import { addTraceContext } from '../json-records.js';
import { partitionForKey } from '../partition.js';
import { messageBytes, type Message } from '../producer.js';
import { prefersJson } from '../negotiate.js';
import { assertTopicName } from '../topic-name.js';
import { authenticate } from './auth-middleware.js';
import { honoPath } from './paths.js';
import { unavailability } from './readiness.js';

/**
 * The Node request when served by `@hono/node-server` (absent under `app.request()`). Its body is
 * read from it directly: `c.req.raw.body` would build a web `Request` and wrap the body in web
 * streams, a large part of a small request's cost.
 */
function nodeRequest(c: Context<AppEnv>): IncomingMessage | undefined {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming;
}

function ackMode(c: Context<AppEnv>, ctx: ServerContext): AckMode {
  const header = c.req.header(HEADERS.ack);
  if (header === undefined) return ctx.config.ackMode;
  // Present but empty is refused like any other value outside the enum: it is usually a client
  // template whose variable was unset, and the client should learn that its request is not what
  // it meant.
  const mode = header.trim().toLowerCase();
  if ((ACK_MODES as readonly string[]).includes(mode)) return mode as AckMode;
  throw new ProxyError('bad_request', `${HEADERS.ack} must be ${ACK_MODES.join(' or ')}`);
}

/** The request's `x-kafka-proxy-partition`, if any: a partition number, else 400. */
function requestPartition(c: Context<AppEnv>): number | undefined {
  const header = c.req.header(HEADERS.partition);
  if (header === undefined) return undefined;
  const value = header.trim();
  if (!/^\d{1,9}$/.test(value)) {
    throw new ProxyError(
      'invalid_partition',
      `${HEADERS.partition} must be a partition number, not ${JSON.stringify(header)}`,
    );
  }
  return Number(value);
}

/** Where a request's messages go: one part per partition, each in request order. */
interface Part {
  /** Undefined: the flusher picks it round-robin (a request of plain values, in one part). */
  partition: number | undefined;
  messages: Message[];
  /** Each message's index in the request. */
  indexes: number[];
  bytes: number;
}

function outOfRange(partition: number, count: number, topic: string): ProxyError {
  return new ProxyError(
    'invalid_partition',
    `partition ${partition} is out of range: topic "${topic}" has ${count} partitions (0 to ${count - 1})`,
  );
}

/**
 * The partition of each message, grouped: an explicit one (the request's header, or a JSON
 * record's own) if given, else Kafka's murmur2 partition of its key, else the request's
 * round-robin partition. A request of plain values without an explicit partition stays one part
 * for the flusher to place, as it always was.
 */
async function placeMessages(
  ctx: ServerContext,
  topic: string,
  body: FramedBody,
  explicit: number | undefined,
  ackTimeoutMs: number | undefined,
): Promise<Part[]> {
  const { messages } = body;
  // A body is values throughout or records throughout: only records can carry keys.
  const keyed =
    !(messages[0] instanceof Uint8Array) &&
    messages.some((m) => !(m instanceof Uint8Array) && m.key !== null);
  if (explicit === undefined && body.partitions === undefined && !keyed) {
    const indexes = messages.map((_, i) => i);
    return [{ partition: undefined, messages, indexes, bytes: body.bytes }];
  }
  const lookup = ctx.flusher.partitionCount(topic);
  const count =
    ackTimeoutMs === undefined
      ? await lookup
      : await withDeadline(lookup, ackTimeoutMs, () => ackTimeout(ackTimeoutMs));
  let roundRobin: number | undefined;
  const parts = new Map<number, Part>();
  for (const [index, message] of messages.entries()) {
    let partition = explicit ?? body.partitions?.[index];
    if (partition === undefined) {
      const key = message instanceof Uint8Array ? null : message.key;
      partition =
        key === null
          ? (roundRobin ??= await ctx.flusher.nextPartition(topic))
          : partitionForKey(key, count);
    }
    if (partition >= count) throw outOfRange(partition, count, topic);
    let part = parts.get(partition);
    if (part === undefined) {
      part = { partition, messages: [], indexes: [], bytes: 0 };
      parts.set(partition, part);
    }
    part.messages.push(message);
    part.indexes.push(index);
    part.bytes += messageBytes(message);
  }
  return [...parts.values()];
}

/** Framed values given a request-level key or trace context become records carrying them. */
function asRecords(c: Context<AppEnv>, body: FramedBody, format: BodyFormat): FramedBody {
  const trace = {
    traceparent: c.req.header(HEADERS.traceparent),
    tracestate: c.req.header(HEADERS.tracestate),
  };
  const key = c.req.header(HEADERS.key);
  if (format !== 'frames' && key !== undefined) {
    throw new ProxyError(
      'bad_request',
      `${HEADERS.key} gives a key to the values of a framed body; records carry their own keys`,
    );
  }
  // A records or JSON body given a key has thrown above: with neither key nor trace context
  // there is nothing to add, whatever the format.
  if (key === undefined && !trace.traceparent && !trace.tracestate) return body;
  const keyBytes = key === undefined ? null : Buffer.from(key, 'utf8');
  const records: ProxyRecord[] = body.messages.map((m) =>
    m instanceof Uint8Array ? { key: keyBytes, value: m, headers: [], timestamp: null } : m,
  );
  addTraceContext(records, trace);
  let bytes = 0;
  for (const record of records) bytes += messageBytes(record);
  return { ...body, messages: records, bytes };
}

/**
 * What frees a body's memory once all of its `parts` are in Kafka: the parts are views into the
 * same chunks, so none is freed while another part may still be sent.
 */
function whenAllWritten(
  parts: number,
  buffers: readonly ArrayBuffer[] | undefined,
): (() => void) | undefined {
  if (buffers === undefined || buffers.length === 0) return undefined;
  let left = parts;
  return () => {
    left -= 1;
    if (left === 0) freeBody(buffers);
  };
}

async function produce(
  c: Context<AppEnv>,
  ctx: ServerContext,
  topic: string,
  route: { json: boolean },
): Promise<Response> {
  const { config, flusher, metrics } = ctx;
  ctx.auth.authorize(c.get('principal'), topic);
  const format = bodyFormat(c.req.header('content-type'), route);
  const mode = ackMode(c, ctx);
  const explicit = requestPartition(c);
  c.set('logFields', { ...c.get('logFields'), topic, ack: mode });
  const notReady = unavailability(ctx);
  if (notReady !== undefined) throw notReady;
  const ackTimeoutMs = mode === 'durable' ? config.ackTimeoutMs : undefined;

  // The body reader gives the bytes back if it rejects the body, the flusher from then on.
  const reservation = ctx.budget.reserve();
  const read = await readFramedBody(
    nodeRequest(c) ?? c.req.raw.body,
    c.req.raw.headers,
    config.limits,
    reservation,
    format,
  );
  let body: FramedBody;
  let parts: Part[];
  try {
    body = asRecords(c, read, format);
    parts = await placeMessages(ctx, topic, body, explicit, ackTimeoutMs);
  } catch (error) {
    // Refused before anything was queued: nothing of it is produced.
    reservation.release();
    throw error;
  }
  // Each part holds its share of the bytes, released when that part settles.
  const shares = parts.map((part, i) =>
    i === parts.length - 1
      ? reservation
      : reservation.split(
          Math.min(reservation.bytes, part.bytes + part.messages.length * MESSAGE_OVERHEAD_BYTES),
        ),
  );
  const written = whenAllWritten(parts.length, body.buffers);
  // The ack timeout counts from here: how long the upload took is the request timeout's concern.
  // Parts with a partition are queued at once, all in this turn: none can be refused alone.
  const tickets = await Promise.all(
    parts.map((part, i) =>
      flusher.enqueue(
        {
          topic,
          messages: part.messages,
          bytes: part.bytes,
          reservation: shares[i] as Reservation,
          partition: part.partition,
          written,
        },
        { ackTimeoutMs },
      ),
    ),
  );
  const count = body.messages.length;
  metrics.messagesIn.inc({ topic }, count);
  metrics.bytesIn.inc({ topic }, body.bytes);
  const placed =
    tickets.length === 1
      ? { partition: tickets[0]?.partition }
      : { partitions: tickets.map((t) => t.partition) };
  const logFields = { ...c.get('logFields'), messages: count, bytes: body.bytes, ...placed };
  c.set('logFields', logFields);

  let deliveries: Delivery[] | undefined;
  if (mode === 'durable') {
    // Every partition must acknowledge; one that fails fails the request, while the others may
    // be written (a retry can duplicate them: at-least-once, as documented).
    deliveries = await Promise.all(tickets.map((t) => t.delivered));
    if (deliveries.length === 1) {
      c.set('logFields', { ...logFields, baseOffset: deliveries[0]?.baseOffset });
    }
  } else {
    // Answered 202 already: the flusher retries it until Kafka takes it, so this happens only
    // when Kafka refuses the records for good. Nobody else would ever hear of it.
    for (const ticket of tickets) {
      ticket.delivered.catch((error: unknown) => {
        ctx.logger.error(
          { ...logFields, partition: ticket.partition, err: error },
          'a buffered request was dropped: Kafka refused its messages',
        );
      });
    }
  }
  const status = mode === 'durable' ? 200 : 202;
  // Each message's partition and offset, in request order.
  const where = (): RecordOffset[] => {
    const out: RecordOffset[] = new Array<RecordOffset>(count);
    for (const [p, part] of parts.entries()) {
      const partition = tickets[p]?.partition as number;
      const baseOffset = deliveries?.[p]?.baseOffset;
      const base = baseOffset === undefined ? undefined : BigInt(baseOffset);
      for (const [j, index] of part.indexes.entries()) {
        out[index] = { partition, offset: base === undefined ? '' : String(base + BigInt(j)) };
      }
    }
    return out;
  };
  if (format === 'binary' || format === 'json') {
    const reply: OffsetsReply = {
      key_schema_id: null,
      value_schema_id: null,
      offsets: where().map(({ partition, offset }) => ({
        partition,
        offset: offset === '' ? null : Number(offset),
      })),
    };
    return c.json(reply, status);
  }
  if (prefersJson(c.req.header('accept'))) {
    const single = deliveries?.length === 1 ? deliveries[0] : undefined;
    const reply: ProduceReply = {
      topic,
      count,
      bytes: body.bytes,
      ack: mode,
      ...(single === undefined
        ? {}
        : { partition: single.partition, baseOffset: single.baseOffset }),
      ...(deliveries === undefined || format === 'frames' ? {} : { offsets: where() }),
    };
    return c.json(reply, status);
  }
  return c.text(`${count} messages received`, status);
}

/**
 * `POST /` (the current default topic, read when the request arrives) and
 * `POST /topics/{topic}`: decode the body's frames and produce them, all or nothing.
 */
export function registerProduceRoutes(app: Hono<AppEnv>, ctx: ServerContext): void {
  const { produce: toDefault, produceTo } = ROUTES;
  app.post(toDefault.path, authenticate(ctx, toDefault.path), (c) => {
    const topic = ctx.topicStore.current();
    return produce(c, ctx, topic, { json: false });
  });
  app.post(honoPath(produceTo.path), authenticate(ctx, produceTo.path), (c) =>
    produce(c, ctx, assertTopicName(c.req.param('topic') ?? ''), { json: true }),
  );
}
