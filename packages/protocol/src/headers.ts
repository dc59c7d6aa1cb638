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
  /** Per request, framed bodies: every message gets this UTF-8 key (and so its partition). */
  key: 'x-kafka-proxy-key',
  /** Per request: every message goes to this partition (0-based; out of range: 400). */
  partition: 'x-kafka-proxy-partition',
  /** W3C trace context, copied into every record as a Kafka header of the same name. */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** When a produce request is answered: after Kafka acknowledged it (200), or once queued (202). */
export const ACK_MODES = ['durable', 'buffered'] as const;

/** A value of the `x-kafka-proxy-ack` header. */
export type AckMode = (typeof ACK_MODES)[number];
