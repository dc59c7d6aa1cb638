import { isValidTopicName, TOPIC_NAME_RULE } from '@kproxy/protocol';
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

/** Kafka's topic name rules, checked locally so a typo fails before any request. */
export function checkTopic(topic: string): string {
  if (typeof topic !== 'string' || !isValidTopicName(topic)) {
    throw new KafkaProxyError(
      'invalid_topic',
      `invalid topic name ${JSON.stringify(topic)}: use ${TOPIC_NAME_RULE}`,
    );
  }
  return topic;
}
