import { KafkaProxyError } from '@kproxy/client';

/**
 * The CLI's error: a message for the user and the exit code to leave with (2 for a wrong
 * invocation, 1 when the operation itself failed, 130 when interrupted by Ctrl-C).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 130 = 1,
  ) {
    super(message);
  }
}

/** One readable line for any error, naming status, code and attempts when there are some. */
export function describeError(err: unknown): string {
  if (err instanceof KafkaProxyError) {
    const status = err.status === undefined ? '' : `${err.status} `;
    const attempts = err.attempts > 1 ? ` (after ${err.attempts} attempts)` : '';
    return `${status}${err.code}: ${err.message}${attempts}${hintFor(err)}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function hintFor(err: KafkaProxyError): string {
  if (err.status === 401) return ' - check --token or KPROXY_TOKEN';
  if (err.code === 'network_error') return ' - check --url or KPROXY_URL';
  if (err.code !== 'certificate_error') return '';
  // The TLS code the SDK names in its message is also on the cause.
  const tlsCode = (err.cause as { code?: unknown } | undefined)?.code;
  if (tlsCode === 'ERR_TLS_CERT_ALTNAME_INVALID' || tlsCode === 'HOSTNAME_MISMATCH') {
    return ' - the certificate is not for this host name: use the name it is for in --url, or --insecure';
  }
  if (tlsCode === 'CERT_HAS_EXPIRED' || tlsCode === 'CERT_NOT_YET_VALID') {
    return " - the server's certificate is out of date (or this machine's clock is wrong); --insecure skips the check";
  }
  return ' - pass --cacert <file> with the CA that signed it, or --insecure to skip verification';
}
