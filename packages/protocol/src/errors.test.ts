import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from './errors.js';

describe('error codes', () => {
  it('makes exactly the 503s retriable, and nothing else', () => {
    for (const [code, { status, retriable }] of Object.entries(ERROR_CODES))
      expect(retriable, code).toBe(status === 503);
  });

  it('knows its own codes and nothing an ingress or a prototype could bring', () => {
    expect(isErrorCode('buffer_full')).toBe(true);
    for (const code of ['http_error', 'toString', '__proto__', '', undefined, 503])
      expect(isErrorCode(code), String(code)).toBe(false);
  });
});
