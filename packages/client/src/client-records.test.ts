import { encodeFrames, type ProxyRecord } from '@kproxy/framing';
import { CONTENT_TYPES, HEADERS } from '@kproxy/protocol';
import { describe, expect, it } from 'vitest';
import { partitionOfKey, useRecordsProxy } from '../test/records-proxy.js';
import { KafkaProxyError } from './errors.js';

const setup = useRecordsProxy();
const { open } = setup;

const utf8 = (text: string): Buffer => Buffer.from(text);

/** A decoded record with its byte fields as text, for readable comparisons. */
function readable(record: ProxyRecord): unknown {
  const text = (b: Uint8Array | null): string | null =>
    b === null ? null : Buffer.from(b).toString();
  return {
    key: text(record.key),
    value: text(record.value),
    headers: record.headers.map(({ name, value }) => [name, text(value)]),
    timestamp: record.timestamp,
  };
}

describe('send with a record', () => {
  it('sends key, headers and timestamp as a records body and resolves with its offset', async () => {
    const c = open();
    const result = await c.send(
      {
        key: 'user-1',
        value: '{"n":1}',
        headers: { source: 'web', trace: null, bin: new Uint8Array([0, 255]) },
        timestamp: 1_700_000_000_123,
      },
      { topic: 'events' },
    );
    const [request] = setup.proxy.requests;
    expect(setup.proxy.requests).toHaveLength(1);
    expect(request?.path).toBe('/topics/events');
    expect(request?.contentType).toBe(CONTENT_TYPES.records);
    expect(request?.headers[HEADERS.partition]).toBeUndefined();
    expect(request?.records.map(readable)).toEqual([
      {
        key: 'user-1',
        value: '{"n":1}',
        headers: [
          ['source', 'web'],
          ['trace', null],
          ['bin', Buffer.from([0, 255]).toString()],
        ],
        timestamp: 1_700_000_000_123,
      },
    ]);
    expect(result).toEqual({
      topic: 'events',
      partition: partitionOfKey(utf8('user-1')),
      offset: '0',
      durable: true,
    });
  });

  it('sends a tombstone (null value) with its key', async () => {
    const c = open();
    await c.send({ key: 'gone', value: null });
    expect(setup.proxy.requests[0]?.contentType).toBe(CONTENT_TYPES.records);
    expect(setup.proxy.requests[0]?.records.map(readable)).toEqual([
      { key: 'gone', value: null, headers: [], timestamp: null },
    ]);
  });

  it('takes headers as a list, with repeated names, and a Date as the timestamp', async () => {
    const c = open();
    const when = new Date('2026-01-02T03:04:05.678Z');
    await c.send({
      value: utf8('v'),
      headers: [
        { name: 'tag', value: 'a' },
        { name: 'tag', value: utf8('b') },
        { name: 'ünï', value: null },
      ],
      timestamp: when,
    });
    expect(setup.proxy.requests[0]?.records.map(readable)).toEqual([
      {
        key: null,
        value: 'v',
        headers: [
          ['tag', 'a'],
          ['tag', 'b'],
          ['ünï', null],
        ],
        timestamp: when.getTime(),
      },
    ]);
  });

  it('a batch with one record sends every message as a record, each with its own offset', async () => {
    const c = open();
    const results = await c.sendBatch(
      ['plain', { key: 'k1', value: 'keyed' }, { value: 'just a value' }, utf8('bytes')],
      { topic: 't' },
    );
    expect(setup.proxy.requests).toHaveLength(1);
    expect(setup.proxy.requests[0]?.contentType).toBe(CONTENT_TYPES.records);
    expect(setup.proxy.requests[0]?.records.map(readable)).toEqual([
      { key: null, value: 'plain', headers: [], timestamp: null },
      { key: 'k1', value: 'keyed', headers: [], timestamp: null },
      { key: null, value: 'just a value', headers: [], timestamp: null },
      { key: null, value: 'bytes', headers: [], timestamp: null },
    ]);
    // The stand-in writes keyless records to the request's partition and a key to its own.
    const offsets = setup.proxy.written[0]?.offsets;
    expect(results).toEqual(
      offsets?.map((o) => ({
        topic: 't',
        partition: o.partition,
        offset: o.offset,
        durable: true,
      })),
    );
    expect(results[1]?.partition).toBe(partitionOfKey(utf8('k1')));
  });

  it('keeps the original framed body, byte for byte, for plain messages and bare values', async () => {
    const c = open();
    const results = await c.sendBatch(['a', utf8('bb'), { value: 'ccc' }], { topic: 't' });
    expect(setup.proxy.requests).toHaveLength(1);
    expect(setup.proxy.requests[0]?.contentType).toBe(CONTENT_TYPES.frames);
    expect(Buffer.from(setup.proxy.requests[0]!.body)).toEqual(
      Buffer.from(encodeFrames([utf8('a'), utf8('bb'), utf8('ccc')])),
    );
    // No per-record offsets in a framed body's reply: partition and base offset + index.
    const partition = setup.proxy.written[0]?.offsets?.[0]?.partition;
    expect(results.map((r) => [r.partition, r.offset])).toEqual([
      [partition, '0'],
      [partition, '1'],
      [partition, '2'],
    ]);
  });

  it('sends messages naming a partition in requests of their own, with the partition header', async () => {
    const c = open({ batch: { lingerMs: 20 } });
    const results = await Promise.all([
      c.send({ value: 'to 2', partition: 2 }, { topic: 't' }),
      c.send('anywhere', { topic: 't' }),
      c.send({ key: 'k', value: 'keyed to 2', partition: 2 }, { topic: 't' }),
      c.send({ value: 'to 3', partition: 3 }, { topic: 't' }),
    ]);
    const byPartition = Object.fromEntries(
      setup.proxy.requests.map((r) => [
        String(r.headers[HEADERS.partition]),
        { type: r.contentType, values: r.records.map((x) => readable(x)) },
      ]),
    );
    expect(byPartition).toEqual({
      '2': {
        type: CONTENT_TYPES.records,
        values: [
          { key: null, value: 'to 2', headers: [], timestamp: null },
          { key: 'k', value: 'keyed to 2', headers: [], timestamp: null },
        ],
      },
      undefined: {
        type: CONTENT_TYPES.frames,
        values: [{ key: null, value: 'anywhere', headers: [], timestamp: null }],
      },
      '3': {
        type: CONTENT_TYPES.frames,
        values: [{ key: null, value: 'to 3', headers: [], timestamp: null }],
      },
    });
    // The unpinned message goes where the stand-in put its request.
    const anywhere = setup.proxy.requests.find((r) => r.headers[HEADERS.partition] === undefined);
    expect(results.map((r) => r.partition)).toEqual([2, anywhere?.offsets?.[0]?.partition, 2, 3]);
    expect(results[2]?.offset).toBe('1');
  });

  it('splits a sendBatch by partition and answers in the order of the messages', async () => {
    const c = open();
    const results = await c.sendBatch([
      { value: 'a', partition: 1 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ]);
    expect(setup.proxy.requests.map((r) => r.headers[HEADERS.partition])).toEqual(['1', '0']);
    expect(results.map((r) => [r.partition, r.offset])).toEqual([
      [1, '0'],
      [0, '0'],
      [1, '1'],
    ]);
  });

  it('gzips a records body when asked', async () => {
    const c = open({ compression: 'gzip' });
    await c.send({ key: 'k', value: 'x'.repeat(1000) });
    expect(setup.proxy.requests[0]?.headers['content-encoding']).toBe('gzip');
    expect(setup.proxy.requests[0]?.records.map((r) => Buffer.from(r.value!).length)).toEqual([
      1000,
    ]);
  });

  it('counts a record whole against maxMessageBytes', async () => {
    // 20 fixed bytes + key 1 + value 10 + header (8 + 1 + 1) = 41.
    const c = open({ maxMessageBytes: 40 });
    const error = await c
      .send({ key: 'k', value: '0123456789', headers: { h: 'v' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaProxyError);
    expect(error).toMatchObject({
      code: 'message_too_large',
      message: 'the message is 41 bytes as a record; the limit is 40 (maxMessageBytes)',
    });
    await expect(c.send('0123456789'.repeat(4))).resolves.toMatchObject({ durable: true });
  });
});

describe('send checks a record before queueing it', () => {
  const cases: [string, unknown, string][] = [
    ['a number', 42, 'the message must be a Uint8Array, Buffer, string or record, got 42'],
    [
      'an ArrayBuffer',
      new ArrayBuffer(2),
      'the message must be a Uint8Array, Buffer, string or record, got object',
    ],
    [
      'no value',
      { key: 'k' },
      'the message is a record without a value (use value: null for a tombstone)',
    ],
    [
      'a numeric key',
      { key: 7, value: 'v' },
      'the message: key must be a Uint8Array, Buffer, string or null, got 7',
    ],
    [
      'a header name that is not UTF-8',
      { value: 'v', headers: { 'a\uD800': 'x' } },
      "the message: header 0's name must be a string of well-formed UTF-8 text",
    ],
    [
      'a header without a name',
      { value: 'v', headers: [{ value: 'x' }] },
      "the message: header 0's name must be a string of well-formed UTF-8 text",
    ],
    [
      'a numeric header value',
      { value: 'v', headers: { a: 1 } },
      'the message: header "a"\'s value must be a Uint8Array, Buffer, string or null, got 1',
    ],
    [
      'headers as a string',
      { value: 'v', headers: 'a=b' },
      'the message: headers must be an object or an array of { name, value }',
    ],
    [
      'a negative timestamp',
      { value: 'v', timestamp: -1 },
      'the message: timestamp must be whole milliseconds since the epoch (>= 0) or a Date, got -1',
    ],
    [
      'a fractional timestamp',
      { value: 'v', timestamp: 1.5 },
      'the message: timestamp must be whole milliseconds since the epoch (>= 0) or a Date, got 1.5',
    ],
    [
      'an invalid Date',
      { value: 'v', timestamp: new Date('nope') },
      'the message: timestamp must be whole milliseconds since the epoch (>= 0) or a Date, got an invalid Date',
    ],
    [
      'a negative partition',
      { value: 'v', partition: -1 },
      'the message: partition must be an integer from 0, got -1',
    ],
    [
      'a fractional partition',
      { value: 'v', partition: 0.5 },
      'the message: partition must be an integer from 0, got 0.5',
    ],
  ];
  it.each(cases)('rejects %s with invalid_option', async (_name, message, text) => {
    const c = open();
    const error = await c.send(message as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaProxyError);
    expect(error).toMatchObject({ code: 'invalid_option', message: text });
    expect(setup.proxy.requests).toHaveLength(0);
  });

  it('sendBatch names the bad message and sends none of them', async () => {
    const c = open();
    const error = await c
      .sendBatch([{ value: 'ok' }, { value: 'v', timestamp: -5 }])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'invalid_option',
      message:
        'message 1: timestamp must be whole milliseconds since the epoch (>= 0) or a Date, got -5',
    });
    await c.flush();
    expect(setup.proxy.requests).toHaveLength(0);
  });
});
