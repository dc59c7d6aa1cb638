import { describe, expect, it } from 'vitest';
import { isValidTopicName } from './topic-name.js';

describe('topic names', () => {
  it('accepts Kafka-legal names up to 249 characters', () => {
    for (const name of ['a', 'orders.eu-1_x', 'A'.repeat(249), '...'])
      expect(isValidTopicName(name), name).toBe(true);
  });

  it('rejects empty, too long, illegal characters, "." and ".."', () => {
    for (const name of ['', 'A'.repeat(250), 'a b', 'a/b', 'café', '.', '..'])
      expect(isValidTopicName(name), name).toBe(false);
  });
});
