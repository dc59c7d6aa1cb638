/**
 * Every error code the server answers with, and what it means for a client: the HTTP status it
 * comes with, and whether sending the same request again may succeed. The server throws by code;
 * the SDK decides its retries by code. A code is never reused with another meaning.
 *
 * @example
 * import { ERROR_CODES } from '@kproxy/protocol';
 * ERROR_CODES.buffer_full; // { status: 503, retriable: true }
 */
export const ERROR_CODES = {
  bad_request: { status: 400, retriable: false },
  truncated_frame: { status: 400, retriable: false },
  empty_body: { status: 400, retriable: false },
  invalid_topic: { status: 400, retriable: false },
  malformed_record: { status: 400, retriable: false },
  invalid_partition: { status: 400, retriable: false },
  unauthorized: { status: 401, retriable: false },
  forbidden: { status: 403, retriable: false },
  not_found: { status: 404, retriable: false },
  unknown_topic: { status: 404, retriable: false },
  method_not_allowed: { status: 405, retriable: false },
  request_timeout: { status: 408, retriable: false },
  body_too_large: { status: 413, retriable: false },
  message_too_large: { status: 413, retriable: false },
  too_many_messages: { status: 413, retriable: false },
  unsupported_media_type: { status: 415, retriable: false },
  unsupported_encoding: { status: 415, retriable: false },
  headers_too_large: { status: 431, retriable: false },
  topic_store_failed: { status: 500, retriable: false },
  internal: { status: 500, retriable: false },
  unsupported_transfer_coding: { status: 501, retriable: false },
  kafka_rejected: { status: 502, retriable: false },
  kafka_unavailable: { status: 503, retriable: true },
  ack_timeout: { status: 503, retriable: true },
  buffer_full: { status: 503, retriable: true },
  shutting_down: { status: 503, retriable: true },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

/** A stable, documented error code: the `error` field of every error reply. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Every error code, in the order of {@link ERROR_CODES} (for enums and documentation). */
export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as readonly ErrorCode[];

/**
 * True when `code` is one of the server's error codes. An answer from something in front of the
 * server (an ingress, a load balancer) carries none, or one of its own.
 *
 * @example
 * if (isErrorCode(body.error)) retriable = ERROR_CODES[body.error].retriable;
 */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
