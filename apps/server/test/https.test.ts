// HTTPS: with a certificate and key configured the server speaks TLS (and only TLS).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrames } from '@kproxy/framing';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'https-token-88e1';
let proxy: ServerProcess | undefined;

afterAll(async () => {
  await proxy?.stop();
});

describe('HTTPS (real process, real Kafka)', () => {
  it('serves the API over TLS with the configured certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-tls-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const topic = uniqueTopic('https');
    await createTopic(topic, 1);
    proxy = await spawnServer({
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_TLS_CERT: cert,
      KAFKA_PROXY_TLS_KEY: key,
    });
    expect(proxy.url).toMatch(/^https:\/\//);

    const dispatcher = new Agent({ connect: { ca: await readFile(cert, 'utf8') } });
    const res = await request(`${proxy.url}/`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' },
      body: encodeFrames([Buffer.from('over tls')]),
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('1 messages received');
    await dispatcher.close();
    expect(texts(await readAll(topic))).toEqual(['over tls']);

    // Plain HTTP on the TLS port gets no API answer.
    const plain = await fetch(proxy.url.replace('https:', 'http:') + '/healthz').then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });
});
