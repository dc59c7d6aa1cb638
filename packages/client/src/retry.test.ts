import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaProxyError } from './errors.js';
import { resolveOptions } from './options.js';
import { backoffDelay, parseRetryAfter, withRetry } from './retry.js';

const policy = { attempts: 4, initialDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 10_000 };

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('1')).toBe(1000);
    expect(parseRetryAfter(' 120 ')).toBe(120_000);
  });
  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('Wed, 25 Nov 2026 08:00:00 GMT');
    expect(parseRetryAfter('Wed, 25 Nov 2026 08:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 07:59:00 GMT', now)).toBe(0);
  });
  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('doubles per retry with half of each step random, capped by maxDelayMs', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
    expect(backoffDelay(2, policy, () => 0)).toBe(200);
    expect(backoffDelay(2, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });
});

describe('withRetry', () => {
  const retriable = (): KafkaProxyError =>
    new KafkaProxyError('kafka_unavailable', 'down', { status: 503, retriable: true });

  it('retries retriable errors until success', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await withRetry(
      () => (++calls < 3 ? Promise.reject(retriable()) : Promise.resolve('ok')),
      {
        options: { ...policy, initialDelayMs: 1, maxDelayMs: 2 },
        onRetry: (_n, ms) => delays.push(ms),
      },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('stops at once on an error that is not retriable', async () => {
    let calls = 0;
    const err = new KafkaProxyError('unauthorized', 'no', { status: 401 });
    await expect(
      withRetry(() => (calls++, Promise.reject(err)), { options: policy }),
    ).rejects.toMatchObject({ code: 'unauthorized', attempts: 1 });
    expect(calls).toBe(1);
  });

  it('gives up after the configured attempts with the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(() => (calls++, Promise.reject(retriable())), {
        options: { ...policy, initialDelayMs: 1, maxDelayMs: 1 },
      }),
    ).rejects.toMatchObject({ code: 'kafka_unavailable', attempts: 4 });
    expect(calls).toBe(4);
  });

  it('does not wait past maxElapsedMs', async () => {
    const started = Date.now();
    const err = new KafkaProxyError('busy', 'later', {
      status: 503,
      retriable: true,
      retryAfterMs: 60_000,
    });
    await expect(
      withRetry(() => Promise.reject(err), { options: { ...policy, maxElapsedMs: 5000 } }),
    ).rejects.toMatchObject({ code: 'busy', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('is cancelled by an AbortSignal while waiting', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await expect(
      withRetry(() => Promise.reject(retriable()), {
        options: { ...policy, initialDelayMs: 5000, maxDelayMs: 5000 },
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'aborted', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('the default retry budget', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const defaults = resolveOptions({ url: 'http://proxy.test', token: 't' }).retry;
  const unavailable = (): KafkaProxyError =>
    new KafkaProxyError('kafka_unavailable', 'broker restarting', {
      status: 503,
      retriable: true,
      retryAfterMs: 1000,
    });

  it('rides out a 40 s broker restart answered 503 + Retry-After: 1', async () => {
    vi.useFakeTimers();
    const started = Date.now();
    let calls = 0;
    const result = withRetry(
      () => {
        calls++;
        return Date.now() - started < 40_000
          ? Promise.reject(unavailable())
          : Promise.resolve('ok');
      },
      { options: defaults },
    );
    await vi.advanceTimersByTimeAsync(45_000);
    await expect(result).resolves.toBe('ok');
    // More than the six attempts that used to be the whole budget.
    expect(calls).toBeGreaterThan(10);
  });

  it('gives up once 60 s have passed', async () => {
    vi.useFakeTimers();
    const started = Date.now();
    const result = withRetry(() => Promise.reject(unavailable()), { options: defaults });
    const settled = result.then(
      () => undefined,
      (err: unknown) => [err, Date.now() - started] as const,
    );
    await vi.advanceTimersByTimeAsync(70_000);
    const [err, elapsed] = (await settled) ?? [];
    expect(err).toMatchObject({ code: 'kafka_unavailable' });
    // No retry starts past 60 s, and none is skipped that would start before (backoff <= 5 s).
    expect(elapsed).toBeGreaterThanOrEqual(55_000);
    expect(elapsed).toBeLessThanOrEqual(60_000);
  });

  it('still stops at retry.attempts when it is set', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const result = withRetry(() => (calls++, Promise.reject(unavailable())), {
      options: resolveOptions({ url: 'http://proxy.test', token: 't', retry: { attempts: 3 } })
        .retry,
    }).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toMatchObject({ attempts: 3 });
    expect(calls).toBe(3);
  });
});
