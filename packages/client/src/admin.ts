// The proxy's admin API as the client speaks it: the server's default topic and its health.
import { CONTENT_TYPES, ROUTES, setTopicPath } from '@kproxy/protocol';
import { KafkaProxyError } from './errors.js';
import { callHook, type ResolvedOptions } from './options.js';
import { withRetry } from './retry.js';
import type { HttpResponse, Transport } from './transport.js';
import { topicFromAnswer } from './wire.js';

/** Liveness and readiness of the proxy, from `GET /healthz` and `GET /readyz`. */
export interface HealthStatus {
  live: boolean;
  ready: boolean;
  /** Why the proxy is not ready, as it said so. */
  reason?: string;
}

/**
 * The admin calls of a client: retried like produce requests, except the health probes.
 *
 * @example
 * ```ts
 * const admin = new Admin(options, transport, lifetime.signal);
 * const topic = await admin.getTopic(undefined);
 * ```
 */
export class Admin {
  readonly #options: Pick<ResolvedOptions, 'retry' | 'hooks'>;
  readonly #transport: Transport;
  /** The client's lifetime: aborting it cancels every call. */
  readonly #lifetime: AbortSignal;

  constructor(
    options: Pick<ResolvedOptions, 'retry' | 'hooks'>,
    transport: Transport,
    lifetime: AbortSignal,
  ) {
    this.#options = options;
    this.#transport = transport;
    this.#lifetime = lifetime;
  }

  /** `POST /topic/{topic}`. */
  async setTopic(topic: string, signal: AbortSignal | undefined): Promise<void> {
    await this.#call('POST', setTopicPath(topic), signal);
  }

  /** `GET /topic`. */
  async getTopic(signal: AbortSignal | undefined): Promise<string> {
    return topicFromAnswer(await this.#call('GET', ROUTES.topic.path, signal));
  }

  /** `GET /healthz`, then `GET /readyz`, once each; rejects only when there is no answer. */
  async health(signal: AbortSignal | undefined): Promise<HealthStatus> {
    const probe = async (path: string): Promise<{ ok: boolean; reason?: string }> => {
      try {
        await this.#transport.send({ method: 'GET', path, signal });
        return { ok: true };
      } catch (err) {
        if (err instanceof KafkaProxyError && err.status !== undefined) {
          return { ok: false, reason: `${err.status} ${err.code}: ${err.message}` };
        }
        throw err;
      }
    };
    const live = await probe(ROUTES.health.path);
    const ready = await probe(ROUTES.readiness.path);
    const status: HealthStatus = { live: live.ok, ready: ready.ok };
    const reason = ready.reason ?? live.reason;
    if (reason !== undefined) status.reason = reason;
    return status;
  }

  async #call(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<HttpResponse> {
    const signals = [this.#lifetime];
    if (signal) signals.push(signal);
    const combined = AbortSignal.any(signals);
    const { retry, hooks } = this.#options;
    return withRetry(
      () =>
        this.#transport.send({
          method,
          path,
          headers: { accept: CONTENT_TYPES.json },
          signal: combined,
        }),
      {
        options: retry,
        signal: combined,
        onRetry: (attempt, delayMs, error) =>
          callHook(() => hooks.onRetry?.({ topic: undefined, attempt, delayMs, error })),
      },
    );
  }
}
