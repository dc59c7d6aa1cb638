import { hash, timingSafeEqual } from 'node:crypto';
import { HEADERS } from '@kproxy/protocol';
import { ProxyError } from './errors.js';

/** One accepted token and, when `patterns` is set, the only topics it may push to or select. */
export interface TokenRule {
  token: string;
  /** Glob patterns (`*` any run of characters, `?` one character); `undefined` means every topic. */
  patterns?: readonly string[];
}

/** Who sent a request: the rule its token matched (the token itself is never logged). */
export interface Principal {
  /** Position of the matching rule, for logs: "token #2" identifies without revealing. */
  index: number;
  mayUse(topic: string): boolean;
}

/** Verifies request tokens against a fixed set of rules. */
export interface Authenticator {
  /** The principal for `token`, or throws `unauthorized` (401) when it is missing or unknown. */
  authenticate(token: string | undefined): Principal;
  /** Throws `forbidden` (403) when `principal` may not use `topic`. */
  authorize(principal: Principal, topic: string): void;
}

// One-shot hashing: a Hash object per request costs more than the hash itself.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * Builds an authenticator. Tokens are compared by SHA-256 digest with `timingSafeEqual`, so
 * neither the comparison nor the digests' equal length reveal how much of a guess was right; every
 * rule is checked even after a match so the time taken does not depend on which rule matched.
 *
 * @example
 * const auth = createAuthenticator([{ token: 's3cret', patterns: ['orders.*'] }]);
 * auth.authorize(auth.authenticate('s3cret'), 'orders.eu'); // ok
 */
export function createAuthenticator(rules: readonly TokenRule[]): Authenticator {
  const compiled = rules.map((rule, index) => {
    const regexps = rule.patterns?.map(globToRegExp);
    const principal: Principal = {
      index,
      mayUse: (topic) => regexps === undefined || regexps.some((re) => re.test(topic)),
    };
    return { hash: digest(rule.token), principal };
  });
  return {
    authenticate(token) {
      if (token === undefined || token === '') {
        throw new ProxyError(
          'unauthorized',
          `missing token: send it as "${HEADERS.token}: <token>" or "Authorization: Bearer <token>"`,
        );
      }
      const candidate = digest(token);
      let found: Principal | undefined;
      for (const entry of compiled) {
        if (timingSafeEqual(candidate, entry.hash) && found === undefined) found = entry.principal;
      }
      if (found === undefined) throw new ProxyError('unauthorized', 'invalid token');
      return found;
    },
    authorize(principal, topic) {
      if (!principal.mayUse(topic)) {
        throw new ProxyError('forbidden', `this token may not use topic "${topic}"`);
      }
    },
  };
}

/**
 * The token a request carries: `x-kafka-proxy-token` (the original client's header) wins over
 * `Authorization: Bearer`.
 *
 * @throws ProxyError `unauthorized` when `Authorization` is present but not one Bearer token.
 */
export function tokenFromHeaders(headers: {
  get(name: string): string | null | undefined;
}): string | undefined {
  const direct = headers.get(HEADERS.token);
  if (direct !== null && direct !== undefined && direct !== '') return direct.trim();
  const authorization = headers.get('authorization');
  if (authorization === null || authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (match?.[1] === undefined) {
    // Another scheme, no token, or several Authorization headers (joined with ", "): say so rather
    // than "missing token", which sends the client looking in the wrong place.
    throw new ProxyError(
      'unauthorized',
      'the Authorization header must be exactly "Bearer <token>" (one header, one token)',
    );
  }
  return match[1];
}

/**
 * Parses a tokens file: one token per line, optionally followed by whitespace-separated topic
 * patterns that limit it; blank lines and `#` comments are ignored.
 *
 * ```
 * # token            topics it may use (none listed: all topics)
 * tok-ingest-9f3a    orders.* logs-?
 * tok-admin-77c1
 * ```
 *
 * @throws Error naming the line when a line cannot be read.
 */
export function parseTokensFile(text: string): TokenRule[] {
  const rules: TokenRule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const [token, ...patterns] = line.split(/\s+/);
    if (token === undefined || token === '') return;
    for (const pattern of patterns) {
      if (!/^[a-zA-Z0-9._*?-]+$/.test(pattern)) {
        throw new Error(
          `line ${i + 1}: topic pattern "${pattern}" may only use [a-zA-Z0-9._-] and the wildcards * and ?`,
        );
      }
    }
    rules.push(patterns.length > 0 ? { token, patterns } : { token });
  });
  return rules;
}
