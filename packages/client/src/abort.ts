// What aborting the `signal` of a `send` or a `sendBatch` does, wherever its messages are: one
// mechanism for both calls.
import { Batch, type PendingMessage } from './batch.js';
import type { KafkaProxyError } from './errors.js';
import { abortedError } from './retry.js';

/** Rejects a call at once, before anything is queued, when its signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

interface Watch {
  readonly items: Set<PendingMessage>;
  readonly onAbort: () => void;
}

/**
 * Gives up on the messages of a `send` or `sendBatch` when its `signal` aborts. Each promise
 * rejects at once with `aborted` (the signal's reason as `cause`; `attempts`: the HTTP attempts
 * made for its request so far), and each message is withdrawn from where it is:
 *
 * - waiting for room in the queue: it leaves the line;
 * - in a batch not sent yet: it is taken out, its room given back, and it is never sent;
 * - in a request already made: the request goes on for the other messages in it, and is
 *   cancelled once none is left that anyone waits for; the message may still land.
 *
 * A signal aborted before the call is made rejects it at once ({@link throwIfAborted}). There
 * is one abort listener per signal, however many messages wait on it, and it is removed as soon
 * as the last of them settles, so a long-lived signal collects no listeners.
 *
 * @example
 * ```ts
 * const aborts = new Aborts((item, error) => takeOut(item, error));
 * aborts.watch(options.signal, items);
 * ```
 */
export class Aborts {
  readonly #watched = new Map<AbortSignal, Watch>();
  readonly #withdraw: (item: PendingMessage, error: KafkaProxyError) => void;

  /** `withdraw` takes an aborted message (already rejected) out of wherever it is. */
  constructor(withdraw: (item: PendingMessage, error: KafkaProxyError) => void) {
    this.#withdraw = withdraw;
  }

  /** Watches `signal` for these messages until each one settles. */
  watch(signal: AbortSignal | undefined, items: Iterable<PendingMessage>): void {
    if (!signal) return;
    let watch = this.#watched.get(signal);
    for (const item of items) {
      if (item.settled) continue;
      if (!watch) watch = this.#listen(signal);
      const watching = watch;
      watching.items.add(item);
      item.onSettled = () => this.#forget(signal, watching, item);
    }
  }

  #listen(signal: AbortSignal): Watch {
    const watch: Watch = { items: new Set(), onAbort: () => this.#abort(signal, watch) };
    this.#watched.set(signal, watch);
    signal.addEventListener('abort', watch.onAbort, { once: true });
    return watch;
  }

  #forget(signal: AbortSignal, watch: Watch, item: PendingMessage): void {
    if (!watch.items.delete(item) || watch.items.size > 0) return;
    signal.removeEventListener('abort', watch.onAbort);
    if (this.#watched.get(signal) === watch) this.#watched.delete(signal);
  }

  #abort(signal: AbortSignal, watch: Watch): void {
    this.#watched.delete(signal);
    const items = [...watch.items];
    watch.items.clear();
    // All are rejected before any is withdrawn: withdrawing one frees room, and a waiter let in
    // by it must already know that its own messages are given up on.
    const errors = new Map<unknown, KafkaProxyError>();
    const rejected = items.map((item) => {
      const error = errorFor(signal, item, errors);
      item.reject(error);
      return error;
    });
    items.forEach((item, i) => this.#withdraw(item, rejected[i] as KafkaProxyError));
  }
}

/** One error per request (or place in line), carrying the attempts made for that request. */
function errorFor(
  signal: AbortSignal,
  item: PendingMessage,
  errors: Map<unknown, KafkaProxyError>,
): KafkaProxyError {
  let error = errors.get(item.holder);
  if (!error) {
    error = abortedError(signal);
    error.attempts = item.holder instanceof Batch ? item.holder.attempts : 0;
    errors.set(item.holder, error);
  }
  return error;
}
