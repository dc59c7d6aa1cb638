import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptedTexts, startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { runReadmeQuickStart } from '../test/readme.js';

let fake: FakeProxy;
beforeEach(async () => {
  fake = await startFakeProxy({ token: 'readme-token' });
});
afterEach(() => fake.close());

describe('README', () => {
  it('the quick start sends its three messages in one request and prints where they landed', async () => {
    const stdout = await runReadmeQuickStart(fake.url, 'readme-token');
    expect(stdout).toBe(
      'readme-events partition 0 offset 0\n' +
        'readme-events partition 0 offset 1\n' +
        'readme-events partition 0 offset 2\n',
    );
    expect(fake.accepted).toHaveLength(1);
    expect(acceptedTexts(fake)).toEqual(['first', 'second', 'third']);
  });
});
