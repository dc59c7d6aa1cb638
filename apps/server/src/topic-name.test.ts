import { describe, expect, it } from 'vitest';
import { assertTopicName } from './topic-name.js';

describe('topic names', () => {
  it('passes a legal name through', () => {
    expect(assertTopicName('orders.eu-1_x')).toBe('orders.eu-1_x');
  });

  it('refuses an illegal one with invalid_topic (400), naming the rule', () => {
    expect(() => assertTopicName('..')).toThrow(
      expect.objectContaining({
        code: 'invalid_topic',
        status: 400,
        message: expect.stringContaining('1 to 249 characters of [a-zA-Z0-9._-]') as string,
      }),
    );
  });
});
