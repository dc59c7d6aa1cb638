import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('gives the result of work that finishes in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1_000, () => new Error('late'))).resolves.toBe(7);
  });

  it('passes on the failure of work that fails in time', async () => {
    const failure = new Error('broken');
    await expect(
      withDeadline(Promise.reject(failure), 1_000, () => new Error('late')),
    ).rejects.toBe(failure);
  });

  it('rejects with the timeout error once the deadline passed', async () => {
    const started = Date.now();
    await expect(
      withDeadline(new Promise(() => undefined), 30, () => new Error('too slow')),
    ).rejects.toThrow('too slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('rejects with the reason of a signal that aborts before the work settles', async () => {
    const controller = new AbortController();
    const waiting = withDeadline(
      new Promise(() => undefined),
      10_000,
      () => new Error('late'),
      controller.signal,
    );
    const reason = new Error('the client was replaced');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('rejects at once when the signal has already aborted', async () => {
    const reason = new Error('the client was replaced');
    const started = Date.now();
    await expect(
      withDeadline(
        new Promise(() => undefined),
        10_000,
        () => new Error('late'),
        AbortSignal.abort(reason),
      ),
    ).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps nothing on a long-lived signal once its calls have settled', async () => {
    const controller = new AbortController();
    const { signal } = controller;
    const calls = Array.from({ length: 1_000 }, (_, i) =>
      withDeadline(
        i % 3 === 0
          ? Promise.reject(new Error('broken'))
          : i % 3 === 1
            ? Promise.resolve(i)
            : new Promise(() => undefined),
        20,
        () => new Error('too slow'),
        signal,
      ),
    );
    expect(getEventListeners(signal, 'abort')).toHaveLength(1_000);
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(333);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
