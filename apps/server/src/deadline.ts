/**
 * `work`, or a rejection with `timedOut()` once `ms` milliseconds have passed, whichever comes
 * first. The timer is cleared as soon as `work` settles; `work` itself is not cancelled (there is
 * nothing to cancel a promise with), so its result after the deadline is ignored.
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
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
