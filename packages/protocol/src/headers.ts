/**
 * The header names of the contract, lower-case (HTTP header names are case-insensitive).
 *
 * @example
 * fetch(url, { method: 'POST', headers: { [HEADERS.token]: token, [HEADERS.ack]: 'buffered' } });
 */
export const HEADERS = {
  /** The token (the original proxy's header); `Authorization: Bearer <token>` works too. */
  token: 'x-kafka-proxy-token',
  /** Per request: `durable` or `buffered` (see {@link ACK_MODES}). */
  ack: 'x-kafka-proxy-ack',
  /** Echoed on every answer; the server makes one when the request has none (or a bad one). */
  requestId: 'x-request-id',
  /** Seconds to wait before retrying, on every retriable error answer. */
  retryAfter: 'retry-after',
} as const;

/** When a produce request is answered: after Kafka acknowledged it (200), or once queued (202). */
export const ACK_MODES = ['durable', 'buffered'] as const;

/** A value of the `x-kafka-proxy-ack` header. */
export type AckMode = (typeof ACK_MODES)[number];
