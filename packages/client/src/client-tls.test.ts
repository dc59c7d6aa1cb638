import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  makeTestCertificates,
  startTlsFront,
  type TestCertificates,
  type TlsFront,
} from '@kproxy/testkit';
import { acceptedTexts } from '@kproxy/fake-proxy';
import { useFakeProxy } from '../test/fake-proxy-client.js';
import { KafkaProxyClient } from './client.js';
import type { KafkaProxyError } from './errors.js';

const setup = useFakeProxy();
let certs: TestCertificates;
let front: TlsFront | undefined;
beforeAll(async () => {
  certs = await makeTestCertificates();
}, 30_000);
afterAll(() => certs.remove());
afterEach(async () => {
  await front?.close();
  front = undefined;
});
// Retries that would be made quickly if the error were (wrongly) taken for a transient one.
const fastRetry = { attempts: 6, initialDelayMs: 5, maxDelayMs: 20 };

describe('HTTPS', () => {
  it('delivers through a server whose CA is given as tls.ca', async () => {
    front = await startTlsFront(setup.fake.url, certs.leaf);
    const c = setup.open({ url: front.url, tls: { ca: certs.ca.cert } });
    await expect(c.send('over tls', { topic: 't' })).resolves.toMatchObject({ durable: true });
    expect(acceptedTexts(setup.fake)).toEqual(['over tls']);
  });

  it('accepts the CA as bytes, among several', async () => {
    front = await startTlsFront(setup.fake.url, certs.leaf);
    const ca = [certs.selfSigned.cert, Buffer.from(certs.ca.cert)];
    const c = setup.open({ url: front.url, tls: { ca } });
    await expect(c.getTopic()).resolves.toBe('default-topic');
  });

  it('accepts any certificate with rejectUnauthorized: false', async () => {
    front = await startTlsFront(setup.fake.url, certs.expired);
    const c = setup.open({ url: front.url, tls: { rejectUnauthorized: false } });
    await expect(c.send('insecure')).resolves.toMatchObject({ durable: true });
  });

  it.each([
    [
      'a self-signed certificate',
      'selfSigned',
      false,
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'self-signed certificate',
    ],
    [
      'an unknown CA',
      'leaf',
      false,
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate',
    ],
    ['an expired certificate', 'expired', true, 'CERT_HAS_EXPIRED', 'certificate has expired'],
    [
      'a certificate for another host',
      'wrongName',
      true,
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "does not match certificate's altnames",
    ],
  ] as const)(
    'fails at once, without retries, on %s',
    async (_what, which, trustCa, tlsCode, reason) => {
      front = await startTlsFront(setup.fake.url, certs[which]);
      const c = setup.open({
        url: front.url,
        retry: fastRetry,
        ...(trustCa && { tls: { ca: certs.ca.cert } }),
      });
      const err = (await c.send('x').catch((e: unknown) => e)) as KafkaProxyError;
      expect(err).toMatchObject({ code: 'certificate_error', retriable: false, attempts: 1 });
      expect(err.message).toContain(`the TLS certificate of ${front.url} was refused: ${tlsCode}`);
      expect(err.message).toContain(reason);
      expect(err.message).not.toContain('--use-system-ca');
      expect((err.cause as { code?: string }).code).toBe(tlsCode);
      expect(setup.fake.requests).toHaveLength(0);
    },
  );

  it('refuses a tls.ca that holds no PEM certificate', () => {
    expect(
      () =>
        new KafkaProxyClient({
          url: 'https://p.test',
          token: 't',
          tls: { ca: 'not a certificate' },
        }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_option',
        message: expect.stringContaining('tls.ca holds no PEM certificate') as string,
      }),
    );
  });

  it('refuses tls together with a dispatcher of your own', async () => {
    const dispatcher = new Agent();
    expect(
      () =>
        new KafkaProxyClient({
          url: 'https://p.test',
          token: 't',
          dispatcher,
          tls: { rejectUnauthorized: false },
        }),
    ).toThrow(expect.objectContaining({ code: 'invalid_option' }));
    await dispatcher.close();
  });
});
