import { describe, expect, it } from 'vitest';
import { prefersJson } from './negotiate.js';

describe('prefersJson', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['text/plain', false],
    ['application/json', true],
    ['application/json, text/plain', false],
    ['text/plain;q=0.5, application/json', true],
    ['application/*', true],
    ['application/json;q=0.2, */*;q=0.5', false],
  ])('Accept %s -> %s', (accept, expected) => {
    expect(prefersJson(accept)).toBe(expected);
  });
});
