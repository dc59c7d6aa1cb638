import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
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
});
