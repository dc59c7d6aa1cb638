import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  makeTestCertificates,
  startTlsFront,
  type TestCertificates,
  type TlsFront,
} from '@kproxy/testkit';
import { acceptedTexts, startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { runCli } from '../test/run-cli.js';

let certs: TestCertificates;
let fake: FakeProxy;
let front: TlsFront | undefined;
beforeAll(async () => {
  certs = await makeTestCertificates();
}, 30_000);
afterAll(() => certs.remove());
beforeEach(async () => {
  fake = await startFakeProxy();
});
afterEach(async () => {
  await front?.close();
  front = undefined;
  await fake.close();
});

async function behind(which: 'leaf' | 'selfSigned' | 'expired' | 'wrongName'): Promise<{
  url: string;
  token: string;
}> {
  front = await startTlsFront(fake.url, certs[which]);
  return { url: front.url, token: 'secret' };
}

describe('kproxy over HTTPS', () => {
  it('push to a self-signed server fails at once, naming the reason and the flags', async () => {
    const env = await behind('selfSigned');
    const started = Date.now();
    const res = await runCli(['push'], { stdin: 'x\n', env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `kproxy: push failed: certificate_error: the TLS certificate of ${env.url} was refused: DEPTH_ZERO_SELF_SIGNED_CERT (self-signed certificate) - pass --cacert <file> with the CA that signed it, or --insecure to skip verification`,
    );
    expect(res.stderr).not.toContain('attempts');
    // The default retry budget is 60 s: it was not spent on a certificate that cannot change.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fake.requests).toHaveLength(0);
  });

  it('--cacert trusts the CA that signed the certificate: push, topic and health work', async () => {
    const env = await behind('leaf');
    const cacert = ['--cacert', certs.ca.certPath];
    const push = await runCli([...cacert, 'push', '--topic', 'tls'], { stdin: 'secure\n', env });
    expect(push).toMatchObject({ code: 0 });
    expect(acceptedTexts(fake)).toEqual(['secure']);
    const topic = await runCli(['topic', 'get', ...cacert], { env });
    expect(topic.stdout.toString()).toBe('default-topic\n');
    const health = await runCli(['health', '--url', env.url, ...cacert]);
    expect(health).toMatchObject({ code: 0 });
  });

  it('--cacert accepts a self-signed certificate given as its own CA', async () => {
    const env = await behind('selfSigned');
    const res = await runCli(['push', '--cacert', certs.selfSigned.certPath], {
      stdin: 'pinned\n',
      env,
    });
    expect(res.code).toBe(0);
    expect(acceptedTexts(fake)).toEqual(['pinned']);
  });

  it('--insecure accepts any certificate', async () => {
    const env = await behind('expired');
    const res = await runCli(['push', '--insecure'], { stdin: 'anyway\n', env });
    expect(res.code).toBe(0);
    expect(acceptedTexts(fake)).toEqual(['anyway']);
  });

  it('an unknown CA, an expired certificate and a wrong host name each get their own hint', async () => {
    const cases = [
      ['leaf', [], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'pass --cacert <file>'],
      ['expired', ['--cacert', certs.ca.certPath], 'CERT_HAS_EXPIRED', 'out of date'],
      [
        'wrongName',
        ['--cacert', certs.ca.certPath],
        'ERR_TLS_CERT_ALTNAME_INVALID',
        'not for this host name',
      ],
    ] as const;
    for (const [which, flags, code, hint] of cases) {
      const env = await behind(which);
      const res = await runCli(['health', ...flags], { env });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `certificate_error: the TLS certificate of ${env.url} was refused: ${code}`,
      );
      expect(res.stderr).toContain(hint);
      await front?.close();
      front = undefined;
    }
  });

  it('--cacert with a missing file or one without a certificate exits 2', async () => {
    const env = await behind('leaf');
    const missing = await runCli(['push', '--cacert', '/nonexistent/ca.pem'], {
      stdin: 'x\n',
      env,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('kproxy: cannot read --cacert /nonexistent/ca.pem: ENOENT\n');
    const notPem = await runCli(['push', '--cacert', certs.ca.keyPath], { stdin: 'x\n', env });
    expect(notPem.code).toBe(2);
    expect(notPem.stderr).toContain(
      `kproxy: --cacert ${certs.ca.keyPath} holds no PEM certificate`,
    );
    expect(fake.requests).toHaveLength(0);
  });
});
