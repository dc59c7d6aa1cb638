// One produce request per batch: encode (the original framed body, or a records body when a
// message needs one), compress, send with retries, report to the hooks, and settle each message
// with where it landed or with the error that ended the request.
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { encodeFrames, encodeRecords, type ProxyRecord } from '@kproxy/framing';
import type { Batch, PendingMessage, SendResult } from './batch.js';
import { asKafkaProxyError } from './failure.js';
import { callHook, type ResolvedOptions } from './options.js';
import { withRetry } from './retry.js';
import type { Transport } from './transport.js';
import { produceRequest, produceResults } from './wire.js';

const gzip = promisify(gzipCallback);

export interface ProduceContext {
  options: ResolvedOptions;
  transport: Transport;
  /** The client's lifetime: aborting it cancels every request. */
  signal: AbortSignal;
}

/**
 * Sends one batch and settles its messages; never rejects. Messages already settled (given up
 * on by their caller) are left out.
 *
 * @example
 * ```ts
 * void produce(batch, { options, transport, signal }).finally(() => batch.finish());
 * ```
 */
export async function produce(batch: Batch, context: ProduceContext): Promise<void> {
  const items = batch.items.filter((item) => !item.settled);
  if (items.length === 0) return;
  const { options, transport } = context;
  const { topic } = batch;
  const { hooks } = options;
  const started = Date.now();
  const records = items.some((item) => item.record !== undefined);
  const framed = records
    ? encodeRecords(items.map(asRecord))
    : encodeFrames(items.map((item) => item.bytes));
  try {
    const signals = [context.signal, batch.cancel.signal];
    const body = options.compression === 'gzip' ? await gzip(framed) : framed;
    const { method, path, headers } = produceRequest({
      topic,
      partition: batch.partition,
      records,
      gzip: options.compression === 'gzip',
      buffered: options.ack === 'buffered',
    });
    const res = await withRetry(
      (n) => {
        batch.attempts = n;
        return transport.send({ method, path, headers, body, signal: AbortSignal.any(signals) });
      },
      {
        options: options.retry,
        signal: AbortSignal.any(signals),
        onRetry: (attempt, delayMs, error) =>
          callHook(() => hooks.onRetry?.({ topic, attempt, delayMs, error })),
      },
    );
    callHook(() =>
      hooks.onBatchSent?.({
        topic,
        messages: items.length,
        bytes: framed.length,
        status: res.status,
        attempts: batch.attempts,
        durationMs: Date.now() - started,
      }),
    );
    const results = produceResults(res, topic, items.length);
    items.forEach((item, index) => item.resolve(results[index] as SendResult));
  } catch (err) {
    const error = asKafkaProxyError(err);
    callHook(() => hooks.onFailure?.({ topic, messages: items.length, error }));
    for (const item of items) item.reject(error);
  }
}

/** A message as a record: a plain value rides in a records body as a record without a key. */
function asRecord(item: PendingMessage): ProxyRecord {
  return item.record ?? { key: null, value: item.bytes, headers: [], timestamp: null };
}
