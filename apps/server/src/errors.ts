import { ERROR_CODES, HEADERS, type ErrorCode, type ErrorReply } from '@kproxy/protocol';

/** How long a client should wait before retrying a retriable error, unless the thrower knows better. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * The server's one error class. `status` and `retriable` follow from `code` (the contract's
 * `ERROR_CODES`), so handlers only `throw new ProxyError(code, msg)` and the app turns it into
 * `{"error": code, "message": msg}` in one place. Retriable errors carry a `retryAfterSeconds`
 * that becomes the `Retry-After` header.
 *
 * @example
 * throw new ProxyError('invalid_topic', 'topic names are 1-249 characters of [a-zA-Z0-9._-]');
 */
export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = ERROR_CODES[code].retriable;
    this.retryAfterSeconds = this.retriable
      ? (options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS)
      : undefined;
  }

  /** The body of this error's answer. */
  reply(): ErrorReply {
    return { error: this.code, message: this.message };
  }
}

/**
 * The headers an error answer carries besides its body: `Retry-After` when the client may retry,
 * and for a 401 the scheme to authenticate with (RFC 9110 §15.5.2).
 */
export function errorHeaders(error: ProxyError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined)
    headers[HEADERS.retryAfter] = String(error.retryAfterSeconds);
  if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="kafka-proxy"';
  return headers;
}
