import { isValidTopicName, TOPIC_NAME_RULE } from '@kproxy/protocol';
import { ProxyError } from './errors.js';

/**
 * Returns `name` when it is a legal Kafka topic name, else throws `invalid_topic` (400).
 *
 * @example
 * assertTopicName('orders'); // 'orders'
 */
export function assertTopicName(name: string): string {
  if (!isValidTopicName(name)) {
    throw new ProxyError(
      'invalid_topic',
      `invalid topic name ${JSON.stringify(name.slice(0, 300))}: topic names are ${TOPIC_NAME_RULE}`,
    );
  }
  return name;
}
