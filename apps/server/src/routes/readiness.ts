import type { ServerContext } from '../context.js';
import { ProxyError } from '../errors.js';

/**
 * Why the server cannot take messages right now (`shutting_down`, `kafka_unavailable`), or
 * `undefined` when it can. `/readyz` answers it as its 503; a produce request is refused with it.
 *
 * @example
 * const notReady = unavailability(ctx);
 * if (notReady !== undefined) throw notReady;
 */
export function unavailability(ctx: ServerContext): ProxyError | undefined {
  if (ctx.lifecycle.shuttingDown)
    return new ProxyError('shutting_down', 'the proxy is shutting down');
  if (!ctx.producer.isReady())
    return new ProxyError('kafka_unavailable', 'Kafka is not reachable; retry later');
  return undefined;
}
