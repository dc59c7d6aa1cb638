// The request/answer protocol of kafka-proxy as the SDK speaks it: what a produce request looks
// like, and what the server's answers mean. `transport.ts` carries the bytes.
import {
  CONTENT_TYPES,
  HEADERS,
  producePath,
  ROUTES,
  type ProduceReply,
  type RecordOffset,
  type TopicReply,
} from '@kproxy/protocol';
import type { SendResult } from './batch.js';
import { isRetriableAnswer, KafkaProxyError } from './errors.js';
import type { HttpRequest, HttpResponse } from './transport.js';

/** What a produce request is sent with, besides its body and signal. */
export interface ProduceShape {
  /** `undefined`: the server's default topic. */
  topic: string | undefined;
  /** The partition every message of the request goes to; `undefined`: the server picks. */
  partition: number | undefined;
  /** A records body rather than the original framed body. */
  records: boolean;
  gzip: boolean;
  buffered: boolean;
}

/** The method, path and headers of a produce request. */
export function produceRequest(
  shape: ProduceShape,
): Required<Pick<HttpRequest, 'method' | 'path' | 'headers'>> {
  const headers: Record<string, string> = {
    'content-type': shape.records ? CONTENT_TYPES.records : CONTENT_TYPES.frames,
    accept: `${CONTENT_TYPES.json}, ${CONTENT_TYPES.text};q=0.5`,
  };
  if (shape.partition !== undefined) headers[HEADERS.partition] = String(shape.partition);
  if (shape.gzip) headers['content-encoding'] = 'gzip';
  if (shape.buffered) headers[HEADERS.ack] = 'buffered';
  const path = shape.topic === undefined ? ROUTES.produce.path : producePath(shape.topic);
  return { method: 'POST', path, headers };
}

/**
 * Where each of a produce request's `count` messages landed, from the server's answer: the JSON
 * reply names the topic and either each record's partition and offset (`offsets`, a records body
 * that may span partitions) or the partition and first offset (durable mode); a text answer,
 * nothing more than the status.
 */
export function produceResults(
  res: HttpResponse,
  topic: string | undefined,
  count: number,
): SendResult[] {
  const answer = (res.contentType.includes('json') ? parseJson(res.text) : undefined) as
    { [K in keyof ProduceReply]?: unknown } | undefined;
  const landedTopic = typeof answer?.topic === 'string' ? answer.topic : topic;
  const partition = typeof answer?.partition === 'number' ? answer.partition : undefined;
  const base = parseOffset(answer?.baseOffset);
  const offsets = recordOffsets(answer?.offsets, count);
  const durable = res.status === 200;
  return Array.from({ length: count }, (_, index) => {
    const each = offsets?.[index];
    if (each) return { topic: landedTopic, ...each, durable };
    return {
      topic: landedTopic,
      partition,
      offset: base === undefined ? undefined : String(base + BigInt(index)),
      durable,
    };
  });
}

/** The reply's `offsets` when it has one well-formed entry per message, else undefined. */
function recordOffsets(value: unknown, count: number): RecordOffset[] | undefined {
  if (!Array.isArray(value) || value.length !== count) return undefined;
  const offsets: RecordOffset[] = [];
  for (const entry of value as { partition?: unknown; offset?: unknown }[]) {
    const offset = parseOffset(entry?.offset);
    if (typeof entry?.partition !== 'number' || offset === undefined) return undefined;
    offsets.push({ partition: entry.partition, offset: String(offset) });
  }
  return offsets;
}

/** The topic of a `GET /topic` answer; `invalid_response` when it names none. */
export function topicFromAnswer(res: HttpResponse): string {
  const body = parseJson(res.text) as { [K in keyof TopicReply]?: unknown } | undefined;
  if (typeof body?.topic !== 'string') {
    throw new KafkaProxyError('invalid_response', `GET /topic answered ${res.text.slice(0, 200)}`, {
      status: res.status,
    });
  }
  return body.topic;
}

/**
 * The error an error status means: the server's `{error, message}` with the retriability its
 * code has, or, from something else (an ingress), `http_error` judged by its status.
 */
export function errorFromAnswer(
  res: HttpResponse,
  url: URL,
  retryAfterMs: number | undefined,
): KafkaProxyError {
  let code: string | undefined;
  let message = `${url.origin} answered HTTP ${res.status}`;
  if (res.contentType.includes('json')) {
    const body = parseJson(res.text) as { error?: unknown; message?: unknown } | undefined;
    // a proxy in front of the server may answer JSON-ish garbage; then the generic message stays
    if (typeof body?.error === 'string') code = body.error;
    if (typeof body?.message === 'string') message = body.message;
  } else if (res.text.trim() !== '') {
    message = `${message}: ${res.text.trim().slice(0, 200)}`;
  }
  return new KafkaProxyError(code ?? 'http_error', message, {
    status: res.status,
    retriable: isRetriableAnswer(res.status, code),
    retryAfterMs,
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseOffset(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}
