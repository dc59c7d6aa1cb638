// Certificates for HTTPS tests, made with the openssl command line (Node cannot issue X.509
// certificates itself), and a TLS front that puts any local HTTP server behind one of them.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A certificate and its private key, as PEM text and as files. */
export interface CertificateFiles {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

/**
 * The certificates an HTTPS test needs, all for the address 127.0.0.1 unless said otherwise:
 * a test CA, and server certificates that a client refuses for different reasons.
 */
export interface TestCertificates {
  /** The CA that signed `leaf`, `expired` and `wrongName`; trust it with `ca.certPath`. */
  ca: CertificateFiles;
  /** Signed by `ca`, valid for IP 127.0.0.1: refused unless `ca` is trusted. */
  leaf: CertificateFiles;
  /** Signed by `ca`, but its validity ended yesterday (`CERT_HAS_EXPIRED`). */
  expired: CertificateFiles;
  /** Signed by `ca`, valid only for `elsewhere.example` (`ERR_TLS_CERT_ALTNAME_INVALID`). */
  wrongName: CertificateFiles;
  /** Its own issuer, valid for IP 127.0.0.1 (`DEPTH_ZERO_SELF_SIGNED_CERT`). */
  selfSigned: CertificateFiles;
  /** Removes the files. */
  remove(): Promise<void>;
}

/**
 * Makes a fresh set of {@link TestCertificates} in a temporary directory (RSA 2048, a day long).
 *
 * @example
 * const certs = await makeTestCertificates();
 * const front = await startTlsFront(fake.url, certs.leaf);
 * // ... a client with `ca: certs.ca.cert` reaches front.url ...
 * await front.close();
 * await certs.remove();
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'kproxy-certs-'));
  const files = async (name: string): Promise<CertificateFiles> => {
    const certPath = join(dir, `${name}.pem`);
    const keyPath = join(dir, `${name}.key`);
    return {
      cert: await readFile(certPath, 'utf8'),
      key: await readFile(keyPath, 'utf8'),
      certPath,
      keyPath,
    };
  };
  const selfSigned = async (name: string, subject: string, san?: string): Promise<void> => {
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'];
    args.push('-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`));
    args.push('-subj', subject);
    if (san !== undefined) args.push('-addext', `subjectAltName=${san}`);
    await exec('openssl', args);
  };
  const signed = async (name: string, san: string, days: number): Promise<void> => {
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    await exec('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, `${name}.key`),
      '-out',
      csr,
      '-subj',
      `/CN=${name}`,
    ]);
    await writeFile(ext, `subjectAltName=${san}\n`);
    // A negative -days gives a certificate whose validity ended before it was issued.
    await exec('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, 'ca.pem'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      String(Date.now()),
      '-days',
      String(days),
      '-extfile',
      ext,
      '-out',
      join(dir, `${name}.pem`),
    ]);
  };
  try {
    await selfSigned('ca', '/CN=kafka-proxy test CA');
    await Promise.all([
      signed('leaf', 'IP:127.0.0.1', 1),
      signed('expired', 'IP:127.0.0.1', -1),
      signed('wrong-name', 'DNS:elsewhere.example', 1),
      selfSigned('self-signed', '/CN=127.0.0.1', 'IP:127.0.0.1'),
    ]);
    return {
      ca: await files('ca'),
      leaf: await files('leaf'),
      expired: await files('expired'),
      wrongName: await files('wrong-name'),
      selfSigned: await files('self-signed'),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A TLS listener on 127.0.0.1 that forwards every connection to a plain TCP server. */
export interface TlsFront {
  /** `https://127.0.0.1:<port>`, plus the path of the target URL. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `certificate` on a free port and pipes each connection, once the TLS handshake is done,
 * to the host and port of `target` (an `http://` URL), the way a TLS-terminating ingress does.
 * So a fake proxy on HTTP becomes reachable over HTTPS without changing it.
 *
 * @example
 * const front = await startTlsFront(fake.url, certs.selfSigned);
 * await runCli(['health', '--url', front.url, '--cacert', certs.selfSigned.certPath]);
 */
export async function startTlsFront(
  target: string,
  certificate: Pick<CertificateFiles, 'cert' | 'key'>,
): Promise<TlsFront> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer({ cert: certificate.cert, key: certificate.key }, (tlsSocket) => {
    const upstream = connect(Number(to.port), to.hostname);
    sockets.add(tlsSocket).add(upstream);
    const end = (): void => {
      tlsSocket.destroy();
      upstream.destroy();
      sockets.delete(tlsSocket);
      sockets.delete(upstream);
    };
    tlsSocket.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    tlsSocket.pipe(upstream).pipe(tlsSocket);
  });
  // A client that refuses the certificate aborts the handshake: expected, not a test failure.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const path = to.pathname === '/' ? '' : to.pathname;
  return {
    url: `https://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
