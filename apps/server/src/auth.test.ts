import { describe, expect, it } from 'vitest';
import { createAuthenticator, parseTokensFile, tokenFromHeaders } from './auth.js';

describe('auth', () => {
  it('accepts any configured token and rejects others with 401', () => {
    const auth = createAuthenticator([{ token: 'one' }, { token: 'two' }]);
    expect(auth.authenticate('two').index).toBe(1);
    expect(() => auth.authenticate('three')).toThrow(
      expect.objectContaining({ code: 'unauthorized', status: 401 }),
    );
    expect(() => auth.authenticate('tw')).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
    expect(() => auth.authenticate(undefined)).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
  });

  it('limits a token to its topic patterns with 403 outside them', () => {
    const auth = createAuthenticator([{ token: 't', patterns: ['orders.*', 'logs-?'] }]);
    const p = auth.authenticate('t');
    expect(() => auth.authorize(p, 'orders.eu')).not.toThrow();
    expect(() => auth.authorize(p, 'logs-1')).not.toThrow();
    for (const topic of ['logs-12', 'orders', 'ordersXeu', 'payments']) {
      expect(() => auth.authorize(p, topic), topic).toThrow(
        expect.objectContaining({ code: 'forbidden', status: 403 }),
      );
    }
  });

  it('reads the token from x-kafka-proxy-token or Authorization: Bearer', () => {
    expect(tokenFromHeaders(new Headers({ 'x-kafka-proxy-token': 'a' }))).toBe('a');
    expect(tokenFromHeaders(new Headers({ authorization: 'Bearer b' }))).toBe('b');
    for (const authorization of ['Basic b', 'b', 'Bearer ', 'Bearer a b', 'Bearer a, Bearer b']) {
      expect(() => tokenFromHeaders(new Headers({ authorization }))).toThrow(
        /Authorization header must be exactly "Bearer <token>"/,
      );
    }
    expect(tokenFromHeaders(new Headers())).toBeUndefined();
  });

  it('parses a tokens file with comments, blank lines and patterns', () => {
    const rules = parseTokensFile(
      '# ingest\ntok123 orders.* logs-?\n\n  admin-tok   # all topics\n',
    );
    expect(rules).toEqual([
      { token: 'tok123', patterns: ['orders.*', 'logs-?'] },
      { token: 'admin-tok' },
    ]);
    expect(() => parseTokensFile('tok bad/pattern')).toThrow(/line 1/);
  });
});
