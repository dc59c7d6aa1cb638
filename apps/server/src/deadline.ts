import { addAbortListener } from 'node:events';

/**
 * `work`, or a rejection with `timedOut()` once `ms` milliseconds have passed, or with the
 * signal's reason once `signal` aborts, whichever comes first. The timer and the abort listener
 * are removed as soon as `work` settles, so a signal that lives long (one per Kafka client) holds
 * nothing of the calls that finished; `work` itself is not cancelled (there is nothing to cancel
 * a promise with), so its result after the deadline is ignored.
 *
 * @example
 * const partitions = await withDeadline(producer.partitionCount(topic), 5_000, () =>
 *   new ProxyError('kafka_unavailable', 'Kafka did not answer within 5000 ms'),
 * );
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  timedOut: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let listening: Disposable | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), Math.max(0, ms));
    // Called at once (on a microtask) when the signal has already aborted.
    if (signal) listening = addAbortListener(signal, () => reject(signal.reason as Error));
  });
  try {
    return await Promise.race([work, stop]);
  } finally {
    clearTimeout(timer);
    listening?.[Symbol.dispose]();
  }
}
