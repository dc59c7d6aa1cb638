import type { ProxyRecord, RecordHeader } from '@kproxy/framing';
import { ProxyError } from './errors.js';

/** A record of a request, and the partition the request asked for it, if any. */
export interface RequestRecord extends ProxyRecord {
  partition?: number | undefined;
}

/** How a JSON body's keys and values become bytes. */
export type JsonEmbedding = 'binary' | 'json';

// Standard base64 (RFC 4648 §4), padding optional, as Java's decoder (which those clients use)
// accepts it; anything else would silently lose bytes in a lenient decoder.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const encoder = new TextEncoder();

function malformed(index: number, problem: string): ProxyError {
  return new ProxyError('malformed_record', `record ${index}: ${problem}`);
}

function base64(text: unknown, index: number, field: string): Uint8Array {
  if (typeof text !== 'string' || !BASE64.test(text)) {
    throw malformed(index, `${field} must be a base64 string or null`);
  }
  return Buffer.from(text, 'base64');
}

/** A key or value: null stays null; otherwise base64 bytes, or the JSON text of any value. */
function bytesOf(
  value: unknown,
  embedding: JsonEmbedding,
  index: number,
  field: string,
): Uint8Array | null {
  if (value === undefined || value === null) return null;
  return embedding === 'binary'
    ? base64(value, index, field)
    : encoder.encode(JSON.stringify(value));
}

function headersOf(headers: unknown, index: number): RecordHeader[] {
  if (headers === undefined || headers === null) return [];
  if (!Array.isArray(headers)) throw malformed(index, 'headers must be an array');
  return headers.map((header: unknown, h) => {
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw malformed(index, `header ${h} must be an object {"key": name, "value": base64}`);
    }
    const { key, value } = header as { key?: unknown; value?: unknown };
    if (typeof key !== 'string') throw malformed(index, `header ${h} needs a string "key"`);
    return {
      name: key,
      value: value === undefined || value === null ? null : base64(value, index, `header ${h}`),
    };
  });
}

function partitionOf(partition: unknown, index: number): number | undefined {
  if (partition === undefined || partition === null) return undefined;
  if (!Number.isSafeInteger(partition) || (partition as number) < 0) {
    throw new ProxyError(
      'invalid_partition',
      `record ${index}: partition must be a non-negative integer, not ${JSON.stringify(partition)}`,
    );
  }
  return partition as number;
}

/**
 * The records of a Confluent-REST-v2-compatible JSON body,
 * `{"records": [{"key": ..., "value": ..., "partition": n?, "headers": [{"key", "value"}]?}]}`:
 * with the `binary` embedding keys and values are base64 strings, with `json` any JSON value,
 * produced as its UTF-8 JSON text. A null (or absent) key or value is a null key or value (a
 * null value is a tombstone). Header values are base64 in both. Records carry no timestamp:
 * Kafka sets it.
 *
 * @throws ProxyError `bad_request` (not JSON), `malformed_record`, `invalid_partition`, 400
 *
 * @example
 * parseJsonRecords('{"records":[{"value":"aGk="}]}', 'binary'); // one record, value "hi"
 */
export function parseJsonRecords(text: string, embedding: JsonEmbedding): RequestRecord[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ProxyError('bad_request', `the body is not JSON: ${(error as Error).message}`);
  }
  const records = (body as { records?: unknown } | null)?.records;
  if (typeof body !== 'object' || Array.isArray(body) || !Array.isArray(records)) {
    throw new ProxyError(
      'malformed_record',
      'the body must be a JSON object {"records": [...]} with an array of records',
    );
  }
  if (records.length === 0) {
    throw new ProxyError('empty_body', 'the body holds no records: send at least one');
  }
  return records.map((record: unknown, index) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw malformed(index, 'must be an object with a "value"');
    }
    const fields = record as Record<string, unknown>;
    if (!Object.hasOwn(fields, 'value')) throw malformed(index, 'has no "value" (null deletes)');
    return {
      key: bytesOf(fields.key, embedding, index, 'key'),
      value: bytesOf(fields.value, embedding, index, 'value'),
      headers: headersOf(fields.headers, index),
      timestamp: null,
      partition: partitionOf(fields.partition, index),
    };
  });
}

/**
 * Copies a request's W3C trace context (`traceparent`, `tracestate`) into every record as Kafka
 * headers of the same names, unless the record already has a header of that name; the records
 * are changed in place.
 */
export function addTraceContext(
  records: ProxyRecord[],
  context: { traceparent?: string | null | undefined; tracestate?: string | null | undefined },
): void {
  const added: RecordHeader[] = [];
  for (const name of ['traceparent', 'tracestate'] as const) {
    const value = context[name];
    if (value !== undefined && value !== null && value !== '') {
      added.push({ name, value: encoder.encode(value) });
    }
  }
  if (added.length === 0) return;
  for (const record of records) {
    for (const header of added) {
      if (!record.headers.some((h) => h.name === header.name)) record.headers.push(header);
    }
  }
}
