import { ProxyError } from './errors.js';

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** True when `name` is a legal Kafka topic name: 1–249 of `[a-zA-Z0-9._-]`, not `.` or `..`. */
export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== '.' && name !== '..';
}

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
      `invalid topic name ${JSON.stringify(name.slice(0, 300))}: topic names are 1 to 249 characters of [a-zA-Z0-9._-], and not "." or ".."`,
    );
  }
  return name;
}
