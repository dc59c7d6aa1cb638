import { describe, expect, it } from 'vitest';
import { FollowedLog, seedValue } from './kafka-topic-store.js';

describe('seedValue', () => {
  it('seeds an empty log with the replica start-up topic', () => {
    expect(seedValue(undefined, 'from-cache', false)).toBe('from-cache');
    expect(seedValue(undefined, 'configured', true)).toBe('configured');
  });

  it('keeps the shared value when the topic is not forced', () => {
    expect(seedValue('shared', 'from-cache', false)).toBeUndefined();
  });

  it('writes a forced topic unless the log already holds it', () => {
    expect(seedValue('shared', 'forced', true)).toBe('forced');
    expect(seedValue('forced', 'forced', true)).toBeUndefined();
  });
});

describe('FollowedLog', () => {
  it('takes the latest value and reports changes', () => {
    const log = new FollowedLog();
    expect(log.value).toBeUndefined();
    expect(log.apply(0n, 'a')).toBe(true);
    expect(log.apply(1n, 'a')).toBe(false);
    expect(log.apply(5n, 'b')).toBe(true);
    expect(log.value).toBe('b');
    expect(log.end).toBe(6n);
  });

  it('never moves back to an older value when the log is replayed', () => {
    const log = new FollowedLog();
    log.apply(0n, 'a');
    log.apply(1n, 'b');
    expect(log.apply(0n, 'a')).toBe(false);
    expect(log.value).toBe('b');
    expect(log.end).toBe(2n);
  });

  it('counts an unusable record as read without changing the value', () => {
    const log = new FollowedLog();
    log.apply(0n, 'a');
    expect(log.apply(1n, undefined)).toBe(false);
    expect(log.value).toBe('a');
    expect(log.end).toBe(2n);
  });

  it('resolves a wait once the offset before its end is applied', async () => {
    const log = new FollowedLog();
    let done = false;
    const waiting = log
      .waitUntil(3n, 1000, () => new Error('timeout'))
      .then(() => {
        done = true;
      });
    log.apply(0n, 'a');
    log.apply(1n, 'b');
    await Promise.resolve();
    expect(done).toBe(false);
    log.apply(2n, 'c'); // offset 2 applied: everything below 3 is read
    await waiting;
    expect(done).toBe(true);
  });

  it('resolves at once when already past the end, also across compaction gaps', async () => {
    const log = new FollowedLog();
    await log.waitUntil(0n, 10, () => new Error('timeout'));
    const waiting = log.waitUntil(4n, 1000, () => new Error('timeout'));
    log.apply(7n, 'x'); // offsets 0..6 were compacted away
    await expect(waiting).resolves.toBeUndefined();
  });

  it('rejects a wait that times out and forgets it', async () => {
    const log = new FollowedLog();
    await expect(log.waitUntil(1n, 5, () => new Error('too slow'))).rejects.toThrow('too slow');
    log.apply(0n, 'a'); // must not touch the settled promise
    expect(log.value).toBe('a');
  });

  it('rejects every pending wait on failAll', async () => {
    const log = new FollowedLog();
    const a = log.waitUntil(1n, 1000, () => new Error('timeout'));
    const b = log.waitUntil(2n, 1000, () => new Error('timeout'));
    log.failAll(new Error('closing'));
    await expect(a).rejects.toThrow('closing');
    await expect(b).rejects.toThrow('closing');
  });
});
