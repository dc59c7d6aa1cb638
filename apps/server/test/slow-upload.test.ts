// The ack timeout bounds the wait for Kafka, not the upload: a durable request whose body takes
// longer than KAFKA_PROXY_ACK_TIMEOUT to arrive is still written and answered 200 (the upload
// itself is bounded by KAFKA_PROXY_REQUEST_TIMEOUT).
import { request } from 'node:http';
import { encodeFrames } from '@kproxy/framing';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, describe, expect, it } from 'vitest';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';

const TOKEN = 'slow-upload-token-5a1c';
let proxy: ServerProcess | undefined;
afterAll(async () => {
  await proxy?.stop();
});

/** POSTs `body` in `pieces` pieces, `gapMs` apart; resolves with the status and the reply. */
function dribble(url: string, body: Buffer, pieces: number, gapMs: number) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      `${url}/`,
      {
        method: 'POST',
        headers: {
          'x-kafka-proxy-token': TOKEN,
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    const size = Math.ceil(body.length / pieces);
    let sent = 0;
    const next = (): void => {
      req.write(body.subarray(sent, sent + size));
      sent += size;
      if (sent >= body.length) req.end();
      else setTimeout(next, gapMs);
    };
    next();
  });
}

describe('a slow upload (real process, real Kafka)', () => {
  it('is answered 200 when its body takes longer than the ack timeout to arrive', async () => {
    const topic = await createTopic(uniqueTopic('slow-upload'), 1);
    proxy = await spawnServer({
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_ACK_TIMEOUT: '1',
    });
    const values = Array.from({ length: 20 }, (_, i) => `slow message ${i}`);
    const started = Date.now();
    const reply = await dribble(
      proxy.url,
      Buffer.from(encodeFrames(values.map((v) => Buffer.from(v)))),
      10,
      250,
    );
    expect(Date.now() - started).toBeGreaterThan(2_000);
    expect(reply).toEqual({ status: 200, text: '20 messages received' });
    expect(texts(await readAll(topic))).toEqual(values);
  }, 60_000);
});
