import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { decodeRecords } from '@kproxy/framing';
import { runReadmeExamples } from '../test/readme.js';

let fake: FakeProxy;
beforeEach(async () => {
  fake = await startFakeProxy({ token: 'readme-token' });
});
afterEach(() => fake.close());

describe('README', () => {
  it('the examples run and push what they say, where they say', async () => {
    const { stdout } = await runReadmeExamples(fake.url, 'readme-token');
    const byTopic = new Map<string, string[]>();
    for (const r of fake.accepted) {
      const list = byTopic.get(r.topic ?? '') ?? [];
      list.push(...r.messages.map((m) => Buffer.from(m).toString()));
      byTopic.set(r.topic ?? '', list);
    }
    expect(Object.fromEntries(byTopic)).toEqual({
      'readme-events': ['first', 'second', 'third', 'from', 'stdin'],
      'readme-files': ['a whole\nfile\n'],
      'readme-framed': ['hello', 'world'],
      'readme-default': ['to the default topic'],
    });
    expect(stdout).toBe(
      'hello\nworld\nTopic changed to readme-default\nreadme-default\nlive: yes\nready: yes\n',
    );
  });

  it('the keys-and-headers examples send the records they describe', async () => {
    const { files } = await runReadmeExamples(fake.url, 'readme-token', '## Keys, headers');
    const text = (b: Uint8Array | null): string | null =>
      b === null ? null : Buffer.from(b).toString();
    const records = fake.accepted.flatMap((request) =>
      (request.records ?? []).map((r) => [
        request.path,
        text(r.key),
        text(r.value),
        r.headers.map((h) => `${h.name}=${text(h.value)}`).join(' '),
      ]),
    );
    expect(records).toEqual([
      ['/topics/readme-users', 'user-1', '{"plan":"pro"}', ''],
      ['/topics/readme-users', 'user-2', '{"plan":"free"}', ''],
      ['/topics/readme-users', 'user-3', 'signed up', 'source=cli trace-id=abc'],
      ['/topics/readme-users', 'user-2', null, ''],
    ]);
    const framed = decodeRecords(files.get('records.bin') ?? Buffer.alloc(0));
    expect(
      framed.map((r) => [
        text(r.key),
        text(r.value),
        r.headers.map((h) => `${h.name}=${text(h.value) ?? ''}`).join(' '),
      ]),
    ).toEqual([['user-4', 'hello', 'source=curl']]);
  });
});
