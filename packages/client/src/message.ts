import { KafkaProxyError } from './errors.js';

/** What `send` accepts: bytes as they are, or a string sent as UTF-8. Buffers are Uint8Arrays. */
export type Message = Uint8Array | string;

const encoder = new TextEncoder();

export function toBytes(message: Message): Uint8Array {
  if (typeof message === 'string') return encoder.encode(message);
  if (message instanceof Uint8Array) return message;
  throw new KafkaProxyError(
    'invalid_option',
    `a message must be a Uint8Array, Buffer or string, got ${typeof message}`,
  );
}

const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka's topic name rules, checked locally so a typo fails before any request. */
export function checkTopic(topic: string): string {
  if (typeof topic !== 'string' || !TOPIC_RE.test(topic) || topic === '.' || topic === '..') {
    throw new KafkaProxyError(
      'invalid_topic',
      `invalid topic name ${JSON.stringify(topic)}: use 1 to 249 characters of [a-zA-Z0-9._-], not "." or ".."`,
    );
  }
  return topic;
}
