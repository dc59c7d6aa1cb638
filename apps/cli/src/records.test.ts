import { startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { decodeRecords, type ProxyRecord } from '@kproxy/framing';
import { CONTENT_TYPES } from '@kproxy/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../test/run-cli.js';

let fake: FakeProxy;
let env: { url: string; token: string };
beforeEach(async () => {
  fake = await startFakeProxy();
  env = { url: fake.url, token: 'secret' };
});
afterEach(() => fake.close());

/** A record with its byte fields as text. */
function readable({ key, value, headers }: ProxyRecord): unknown {
  const text = (b: Uint8Array | null): string | null =>
    b === null ? null : Buffer.from(b).toString();
  return {
    key: text(key),
    value: text(value),
    headers: headers.map((h) => [h.name, text(h.value)]),
  };
}

/** What the proxy accepted, in order: a framed body's messages as records without key or headers. */
const sent = (): unknown[] =>
  fake.accepted.flatMap((r) =>
    (
      r.records ?? r.messages.map((value) => ({ key: null, value, headers: [], timestamp: null }))
    ).map(readable),
  );

describe('kproxy push with keys and headers', () => {
  it('-K splits each line at the first separator into key and value', async () => {
    const res = await runCli(['push', '-t', 'users', '-K', ':'], {
      stdin: 'user-1:{"a":"b:c"}\nno separator\n:empty key\nuser-2:\n',
      env,
    });
    expect(res.code).toBe(0);
    expect(fake.accepted.map((r) => [r.path, r.headers['content-type']])).toEqual([
      ['/topics/users', CONTENT_TYPES.records],
    ]);
    expect(sent()).toEqual([
      { key: 'user-1', value: '{"a":"b:c"}', headers: [] },
      { key: null, value: 'no separator', headers: [] },
      { key: '', value: 'empty key', headers: [] },
      { key: 'user-2', value: '', headers: [] },
    ]);
    expect(res.stderr).toMatch(/^pushed 4 messages/);
  });

  it('--null-empty-values turns key<sep> into a tombstone', async () => {
    const res = await runCli(['push', '--key-separator', '::', '--null-empty-values'], {
      stdin: 'gone::\nkept::v\n',
      env,
    });
    expect(res.code).toBe(0);
    expect(sent()).toEqual([
      { key: 'gone', value: null, headers: [] },
      { key: 'kept', value: 'v', headers: [] },
    ]);
  });

  it('--header adds every header to every message, in order', async () => {
    const res = await runCli(
      ['push', '-H', 'source=cli', '--header', 'query=a=b', '-H', 'empty=', '-H', 'source=again'],
      { stdin: 'one\ntwo\n', env },
    );
    expect(res.code).toBe(0);
    const headers = [
      ['source', 'cli'],
      ['query', 'a=b'],
      ['empty', ''],
      ['source', 'again'],
    ];
    expect(sent()).toEqual([
      { key: null, value: 'one', headers },
      { key: null, value: 'two', headers },
    ]);
  });

  it('--key gives every message the same key', async () => {
    const res = await runCli(['push', '--key', 'ключ', '--per-file', '-'], { stdin: 'a:b\n', env });
    expect(res.code).toBe(0);
    expect(sent()).toEqual([{ key: 'ключ', value: 'a:b\n', headers: [] }]);
  });

  it('without record flags pushes the original framed body', async () => {
    const res = await runCli(['push'], { stdin: 'a:b\n\n', env });
    expect(res.code).toBe(0);
    expect(fake.accepted.map((r) => r.headers['content-type'])).toEqual([CONTENT_TYPES.frames]);
    expect(sent()).toEqual([
      { key: null, value: 'a:b', headers: [] },
      { key: null, value: '', headers: [] },
    ]);
  });

  it.each([
    [['-H', 'novalue'], "option '-H, --header <name=value>' argument 'novalue' is invalid"],
    [['-H', '=v'], "argument '=v' is invalid. expected name=value with a non-empty name"],
    [['-K', ''], 'expected a non-empty separator'],
    [
      ['--key', 'k', '-K', ':'],
      "option '--key <key>' cannot be used with option '-K, --key-separator <sep>'",
    ],
  ])('refuses %j with exit 2', async (args, message) => {
    const res = await runCli(['push', ...args], { stdin: 'x\n', env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('kproxy frame with keys and headers', () => {
  it('prints a records body', async () => {
    const res = await runCli(['frame', '--key', 'k', '-H', 'h=v', '--null-empty-values'], {
      stdin: 'first\n\n',
    });
    expect(res.code).toBe(0);
    expect(decodeRecords(res.stdout).map(readable)).toEqual([
      { key: 'k', value: 'first', headers: [['h', 'v']] },
      { key: 'k', value: null, headers: [['h', 'v']] },
    ]);
  });

  it('splits lines with -K', async () => {
    const res = await runCli(['frame', '-K', '\t'], { stdin: 'a\t1\nb\t2\n' });
    expect(decodeRecords(res.stdout).map(readable)).toEqual([
      { key: 'a', value: '1', headers: [] },
      { key: 'b', value: '2', headers: [] },
    ]);
  });
});
