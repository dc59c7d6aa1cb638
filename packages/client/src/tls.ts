import { KafkaProxyError } from './errors.js';

/** PEM text or its bytes. */
export type Pem = string | Uint8Array;

/**
 * How the client checks the proxy's certificate on `https:` URLs.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const tls: TlsOptions = { ca: readFileSync('/etc/kafka-proxy/ca.pem') };
 * ```
 */
export interface TlsOptions {
  /**
   * The CA certificates to trust, in PEM (one string or buffer may hold several). They replace
   * Node's built-in list, as curl's `--cacert` does; to add to it instead, start Node with
   * `NODE_EXTRA_CA_CERTS=<file>` (or `--use-system-ca` for the operating system's store).
   */
  ca?: Pem | readonly Pem[];
  /**
   * `false` accepts any certificate, as curl's `--insecure` does: the connection is encrypted
   * but anyone on the path can pretend to be the proxy. For tests only. Default `true`.
   */
  rejectUnauthorized?: boolean;
}

/** What the client hands to undici's `connect` options. */
export interface TlsConnectOptions {
  ca?: Buffer[];
  rejectUnauthorized?: boolean;
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/** Validates {@link TlsOptions}: a `ca` that holds no PEM certificate would silently trust nothing. */
export function resolveTls(tls: TlsOptions): TlsConnectOptions {
  const out: TlsConnectOptions = {};
  if (tls.ca !== undefined) {
    const list: readonly Pem[] = Array.isArray(tls.ca) ? tls.ca : [tls.ca as Pem];
    out.ca = list.map((pem, i) => {
      const bytes =
        typeof pem === 'string'
          ? Buffer.from(pem)
          : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength);
      if (!bytes.toString('latin1').includes(PEM_CERTIFICATE)) {
        const which = list.length > 1 ? `tls.ca[${i}]` : 'tls.ca';
        throw new KafkaProxyError(
          'invalid_option',
          `${which} holds no PEM certificate (${PEM_CERTIFICATE})`,
        );
      }
      return bytes;
    });
  }
  if (tls.rejectUnauthorized !== undefined) {
    if (typeof tls.rejectUnauthorized !== 'boolean') {
      throw new KafkaProxyError('invalid_option', 'tls.rejectUnauthorized must be a boolean');
    }
    out.rejectUnauthorized = tls.rejectUnauthorized;
  }
  return out;
}

// OpenSSL's verification results as Node reports them, plus Node's own host name check. Each
// means the certificate itself was refused, which no retry can change.
const CERTIFICATE_ERRORS = new Set([
  'CERT_CHAIN_TOO_LONG',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/**
 * The `certificate_error` for a connection whose TLS handshake refused the server's certificate,
 * or undefined when `err` is something else. Not retriable: the same certificate is refused again.
 */
export function certificateError(url: URL, err: unknown): KafkaProxyError | undefined {
  const cause = err as { code?: unknown; message?: unknown } | null;
  const code = cause?.code;
  if (typeof code !== 'string' || !CERTIFICATE_ERRORS.has(code)) return undefined;
  // Node appends advice about its --use-system-ca flag after a ';': keep the reason alone.
  const message = typeof cause?.message === 'string' ? cause.message : '';
  const reason = message.split(';')[0]?.trim() ?? '';
  return new KafkaProxyError(
    'certificate_error',
    `the TLS certificate of ${url.origin} was refused: ${code}${reason === '' ? '' : ` (${reason})`}`,
    { retriable: false, cause: err },
  );
}
