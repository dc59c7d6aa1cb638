/**
 * The media types of the contract. A produce body must be {@link CONTENT_TYPES.frames}; a produce
 * request whose `Accept` prefers {@link CONTENT_TYPES.json} gets a JSON reply instead of text.
 */
export const CONTENT_TYPES = {
  /** Length-prefixed frames (see `@kproxy/framing`), each a message's value: the original body. */
  frames: 'application/octet-stream',
  /** Length-prefixed frames, each one record with key, headers and timestamp (`@kproxy/framing`). */
  records: 'application/vnd.kafka-proxy.records.v1',
  /** Confluent REST v2 / Strimzi bridge JSON records, keys and values base64 (`/topics/{topic}`). */
  binaryV2: 'application/vnd.kafka.binary.v2+json',
  /** Confluent REST v2 / Strimzi bridge JSON records, keys and values any JSON (`/topics/{topic}`). */
  jsonV2: 'application/vnd.kafka.json.v2+json',
  /** Error replies, `GET /topic`, the probes and JSON produce replies. */
  json: 'application/json',
  /** The original proxy's replies (`N messages received`, `Topic changed to x`). */
  text: 'text/plain',
} as const;
