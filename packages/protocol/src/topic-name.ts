/** The longest topic name Kafka accepts. */
export const MAX_TOPIC_NAME_LENGTH = 249;

/** The topic-name rule as a pattern (without the exclusion of `.` and `..`), e.g. for OpenAPI. */
export const TOPIC_NAME_PATTERN = `^[a-zA-Z0-9._-]{1,${MAX_TOPIC_NAME_LENGTH}}$`;

/** The topic-name rule in words, for error messages and help texts. */
export const TOPIC_NAME_RULE = `1 to ${MAX_TOPIC_NAME_LENGTH} characters of [a-zA-Z0-9._-], not "." or ".."`;

const TOPIC_NAME = new RegExp(TOPIC_NAME_PATTERN);

/**
 * True when `name` is a legal Kafka topic name: {@link TOPIC_NAME_RULE}.
 *
 * @example
 * isValidTopicName('orders.v2'); // true
 * isValidTopicName('..'); // false
 */
export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME.test(name) && name !== '.' && name !== '..';
}
