import { KafkaProxyError } from './errors.js';
import { asKafkaProxyError } from './failure.js';
import type { RetryOptions } from './options.js';

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date. Returns milliseconds from `now`,
 * or undefined when the header is absent or unreadable.
 *
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * parseRetryAfter('Wed, 25 Nov 2026 08:00:03 GMT', Date.parse('Wed, 25 Nov 2026 08:00:00 GMT')); // 3000
 * ```
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries from
 * many clients spread out yet never come back sooner than half the step.
 */
export function backoffDelay(
  retry: number,
  options: Required<RetryOptions>,
  random: () => number = Math.random,
): number {
  const step = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** retry);
  return Math.round(step / 2 + (random() * step) / 2);
}

export function abortedError(signal: AbortSignal | undefined): KafkaProxyError {
  const reason: unknown = signal?.reason;
  if (reason instanceof KafkaProxyError) return reason;
  return new KafkaProxyError('aborted', 'the operation was aborted', { cause: reason });
}

/** Resolves after `ms`, or rejects with an `aborted` error as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryContext {
  options: Required<RetryOptions>;
  signal?: AbortSignal | undefined;
  onRetry?: (attempt: number, delayMs: number, error: KafkaProxyError) => void;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retriable error, runs out of attempts, or
 * would have to wait past `maxElapsedMs`. The error thrown carries the number of attempts made.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  { options, signal, onRetry }: RetryContext,
): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    if (signal?.aborted) throw withAttempts(abortedError(signal), n - 1);
    try {
      return await attempt(n);
    } catch (err) {
      const error = asKafkaProxyError(err);
      error.attempts = n;
      if (!error.retriable || n >= options.attempts) throw error;
      const delay = Math.max(backoffDelay(n - 1, options), error.retryAfterMs ?? 0);
      if (Date.now() + delay - started > options.maxElapsedMs) throw error;
      onRetry?.(n, delay, error);
      try {
        await sleep(delay, signal);
      } catch (abort) {
        throw withAttempts(abort as KafkaProxyError, n);
      }
    }
  }
}

function withAttempts(error: KafkaProxyError, attempts: number): KafkaProxyError {
  error.attempts = attempts;
  return error;
}
