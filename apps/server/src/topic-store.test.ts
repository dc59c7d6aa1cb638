import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FileTopicStore, TopicStoreError } from './topic-store.js';

/** A directory of its own for the test, removed when the test ends. */
async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kp-topic-store-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function started(options: ConstructorParameters<typeof FileTopicStore>[0]) {
  const store = new FileTopicStore(options);
  await store.start();
  return store;
}

describe('FileTopicStore', () => {
  it('starts with the cached topic, else the configured one, unless that one is forced', async () => {
    const dir = await cacheDir();
    const cacheFile = join(dir, 'topic');
    expect((await started({ initial: 'configured', force: false, cacheFile })).current()).toBe(
      'configured',
    );
    await writeFile(cacheFile, 'cached\n');
    expect((await started({ initial: 'configured', force: false, cacheFile })).current()).toBe(
      'cached',
    );
    expect((await started({ initial: 'configured', force: true, cacheFile })).current()).toBe(
      'configured',
    );
  });

  it('writes a change to the cache file, where the next start finds it', async () => {
    const cacheFile = join(await cacheDir(), 'topic');
    const store = await started({ initial: 'first', force: false, cacheFile });
    await store.set('second');
    expect(store.current()).toBe('second');
    expect(await readFile(cacheFile, 'utf8')).toBe('second\n');
    await store.close();
    expect((await started({ initial: 'first', force: false, cacheFile })).current()).toBe('second');
  });

  it('keeps the old topic when the cache cannot be written', async () => {
    const cacheFile = join(await cacheDir(), 'missing-dir', 'topic');
    const store = await started({ initial: 'kept', force: false, cacheFile });
    await expect(store.set('lost')).rejects.toThrow();
    expect(store.current()).toBe('kept');
  });

  it.each([
    ['no_default_topic', /no default topic: set KAFKA_PROXY_TOPIC/, undefined],
    ['invalid_cache', /holds an invalid topic name "bad name"/, 'bad name\n'],
    ['unreadable_cache', /cannot be read/, 'a directory'],
  ])('fails to start with %s', async (code, message, cache) => {
    const dir = await cacheDir();
    let cacheFile = join(dir, 'topic');
    if (cache === 'a directory') cacheFile = dir;
    else if (cache !== undefined) await writeFile(cacheFile, cache);
    const attempt = started({ initial: undefined, force: false, cacheFile });
    await expect(attempt).rejects.toBeInstanceOf(TopicStoreError);
    await expect(attempt).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message) as string,
    });
  });

  it('refuses to answer before it started', () => {
    const store = new FileTopicStore({ initial: 'x', force: false, cacheFile: undefined });
    expect(() => store.current()).toThrow(expect.objectContaining({ code: 'not_started' }));
  });
});
