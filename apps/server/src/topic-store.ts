import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isValidTopicName } from '@kproxy/protocol';

/**
 * The default topic that `POST /` pushes to. `current()` is synchronous so that a request reads
 * the value at the time it arrives; `set()` resolves only once the change is durable.
 */
export interface TopicStore {
  start(): Promise<void>;
  current(): string;
  set(topic: string): Promise<void>;
  close(): Promise<void>;
}

/** Why a {@link FileTopicStore} cannot start (or was used before it started). */
export type TopicStoreErrorCode =
  'no_default_topic' | 'unreadable_cache' | 'invalid_cache' | 'not_started';

/**
 * The file topic store's own failures, each with a stable `code`: `no_default_topic` is a
 * configuration mistake (the entry point exits 2 for it, like an invalid setting); the others
 * are start-up failures.
 *
 * @example
 * if (error instanceof TopicStoreError && error.code === 'no_default_topic') process.exit(2);
 */
export class TopicStoreError extends Error {
  constructor(
    readonly code: TopicStoreErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TopicStoreError';
  }
}

/** Options for {@link FileTopicStore}. */
export interface FileTopicStoreOptions {
  /** Topic used when no cache exists (or always, with `force`). */
  initial: string | undefined;
  /** The initial topic wins over the cached one at start. */
  force: boolean;
  /** Cache file; without one, changes last until the process exits. */
  cacheFile: string | undefined;
}

/**
 * The single-replica {@link TopicStore}: the current topic lives in memory and in a cache file,
 * as in the original proxy. Writes are atomic (temporary file, fsync, rename, fsync of the
 * directory), so a crash leaves either the old or the new topic, never an empty file.
 *
 * @example
 * const store = new FileTopicStore({ initial: 'events', force: false, cacheFile: '/var/cache/kafka-proxy/topic' });
 * await store.start();
 * await store.set('orders');
 */
export class FileTopicStore implements TopicStore {
  #topic: string | undefined;
  #writes: Promise<void> = Promise.resolve();

  constructor(private readonly options: FileTopicStoreOptions) {}

  async start(): Promise<void> {
    const { initial, force, cacheFile } = this.options;
    let cached: string | undefined;
    if (cacheFile !== undefined && !(force && initial !== undefined)) {
      try {
        cached = (await readFile(cacheFile, 'utf8')).trim();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new TopicStoreError(
            'unreadable_cache',
            `topic cache ${cacheFile} cannot be read: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      if (cached !== undefined && !isValidTopicName(cached)) {
        throw new TopicStoreError(
          'invalid_cache',
          `topic cache ${cacheFile} holds an invalid topic name ${JSON.stringify(cached.slice(0, 300))}`,
        );
      }
    }
    const topic = cached ?? initial;
    if (topic === undefined) {
      throw new TopicStoreError(
        'no_default_topic',
        'no default topic: set KAFKA_PROXY_TOPIC (--topic), or KAFKA_FLUSHER_TOPIC_CACHE to a file holding one',
      );
    }
    this.#topic = topic;
  }

  current(): string {
    if (this.#topic === undefined) {
      throw new TopicStoreError('not_started', 'FileTopicStore.current() called before start()');
    }
    return this.#topic;
  }

  /** Persists `topic`, then makes it current; on a write failure the old topic stays. */
  set(topic: string): Promise<void> {
    // Writes are serialised so the file always ends with the last change that was reported done.
    const write = this.#writes.then(async () => {
      if (this.options.cacheFile !== undefined)
        await writeAtomically(this.options.cacheFile, `${topic}\n`);
      this.#topic = topic;
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.#writes;
  }
}

/** Writes `text` to `path` so that readers see the old or the new content, never a mix. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const file = await open(temp, 'w', 0o644);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // The rename is durable only once the directory entry is on disk too.
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
