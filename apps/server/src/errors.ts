/**
 * Every failure the server reports to a client, by stable code. The HTTP status and whether a
 * client may retry are properties of the code, so handlers only `throw new ProxyError(code, msg)`
 * and `app.onError` turns it into `{"error": code, "message": msg}` in one place.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, retriable: false },
  truncated_frame: { status: 400, retriable: false },
  empty_body: { status: 400, retriable: false },
  invalid_topic: { status: 400, retriable: false },
  unauthorized: { status: 401, retriable: false },
  forbidden: { status: 403, retriable: false },
  not_found: { status: 404, retriable: false },
  unknown_topic: { status: 404, retriable: false },
  method_not_allowed: { status: 405, retriable: false },
  body_too_large: { status: 413, retriable: false },
  message_too_large: { status: 413, retriable: false },
  too_many_messages: { status: 413, retriable: false },
  unsupported_media_type: { status: 415, retriable: false },
  unsupported_encoding: { status: 415, retriable: false },
  topic_store_failed: { status: 500, retriable: false },
  kafka_rejected: { status: 502, retriable: false },
  internal: { status: 500, retriable: false },
  kafka_unavailable: { status: 503, retriable: true },
  ack_timeout: { status: 503, retriable: true },
  buffer_full: { status: 503, retriable: true },
  shutting_down: { status: 503, retriable: true },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

/** A stable, documented error code (the `error` field of every error response). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** How long a client should wait before retrying a retriable error, unless the thrower knows better. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * The server's one error class. `status` and `retriable` follow from `code`; retriable errors
 * carry a `retryAfterSeconds` that becomes the `Retry-After` header.
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
}
