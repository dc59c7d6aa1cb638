import { KafkaProxyError } from './errors.js';
import { certificateError } from './tls.js';

/**
 * Any failure as the SDK's one error: a `KafkaProxyError` as it is; anything else (a socket or
 * library error nothing classified) as a retriable `network_error`, the original as its cause.
 *
 * @example
 * catch (err) { for (const item of items) item.reject(asKafkaProxyError(err)); }
 */
export function asKafkaProxyError(err: unknown): KafkaProxyError {
  if (err instanceof KafkaProxyError) return err;
  return new KafkaProxyError('network_error', String(err), { retriable: true, cause: err });
}

/** A request to `url` that got no answer: a refused certificate, else a retriable network error. */
export function networkError(url: URL, err: unknown): KafkaProxyError {
  const refused = certificateError(url, err);
  if (refused) return refused;
  const cause = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = cause.code ?? cause.cause?.code;
  const detail = typeof code === 'string' ? code : String(cause.message ?? err);
  return new KafkaProxyError('network_error', `cannot reach ${url.origin}: ${detail}`, {
    retriable: true,
    cause: err,
  });
}
