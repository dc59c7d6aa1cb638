import { describe, expect, it } from 'vitest';
import { addTraceContext, parseJsonRecords } from './json-records.js';

const text = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : Buffer.from(bytes).toString('utf8');

describe('Confluent-v2-compatible JSON bodies', () => {
  it('decode base64 keys, values and header values (binary)', () => {
    const [record] = parseJsonRecords(
      JSON.stringify({
        records: [
          {
            key: Buffer.from('user-1').toString('base64'),
            value: Buffer.from('hello').toString('base64'),
            partition: 2,
            headers: [
              { key: 'source', value: Buffer.from('web').toString('base64') },
              { key: 'none', value: null },
            ],
          },
        ],
      }),
      'binary',
    );
    expect({
      key: text(record!.key),
      value: text(record!.value),
      partition: record!.partition,
      headers: record!.headers.map((h) => [h.name, text(h.value)]),
      timestamp: record!.timestamp,
    }).toEqual({
      key: 'user-1',
      value: 'hello',
      partition: 2,
      headers: [
        ['source', 'web'],
        ['none', null],
      ],
      timestamp: null,
    });
  });

  it('produce JSON keys and values as their JSON text (json), null as null', () => {
    const records = parseJsonRecords(
      '{"records":[{"key":{"id":1},"value":[1,"two",null]},{"key":"k","value":null}]}',
      'json',
    );
    expect(records.map((r) => [text(r.key), text(r.value), r.partition])).toEqual([
      ['{"id":1}', '[1,"two",null]', undefined],
      ['"k"', null, undefined],
    ]);
  });

  it.each([
    ['not JSON', '{"records": [', 'bad_request'],
    ['no records array', '{"value": "aGk="}', 'malformed_record'],
    ['an empty records array', '{"records": []}', 'empty_body'],
    ['a record without a value', '{"records": [{"key": "aGk="}]}', 'malformed_record'],
    ['a value that is not base64', '{"records": [{"value": "not base64!"}]}', 'malformed_record'],
    ['URL-safe base64', '{"records": [{"value": "a-_b"}]}', 'malformed_record'],
    [
      'a header without a name',
      '{"records": [{"value": null, "headers": [{"value": null}]}]}',
      'malformed_record',
    ],
    [
      'a negative partition',
      '{"records": [{"value": null, "partition": -1}]}',
      'invalid_partition',
    ],
    [
      'a fractional partition',
      '{"records": [{"value": null, "partition": 1.5}]}',
      'invalid_partition',
    ],
  ])('refuse %s', (_name, body, code) => {
    expect(() => parseJsonRecords(body, 'binary')).toThrow(
      expect.objectContaining({ code, status: 400 }),
    );
  });

  it('name the record that is wrong', () => {
    expect(() => parseJsonRecords('{"records":[{"value":null},{"value":7}]}', 'binary')).toThrow(
      /^record 1: value must be a base64 string or null$/,
    );
  });
});

describe('trace context', () => {
  it('is copied into each record unless the record has its own', () => {
    const records = [
      { key: null, value: null, headers: [], timestamp: null },
      {
        key: null,
        value: null,
        headers: [{ name: 'traceparent', value: Buffer.from('mine') }],
        timestamp: null,
      },
    ];
    addTraceContext(records, { traceparent: '00-abc-def-01', tracestate: 'k=v' });
    expect(records.map((r) => r.headers.map((h) => [h.name, text(h.value)]))).toEqual([
      [
        ['traceparent', '00-abc-def-01'],
        ['tracestate', 'k=v'],
      ],
      [
        ['traceparent', 'mine'],
        ['tracestate', 'k=v'],
      ],
    ]);
  });
});
