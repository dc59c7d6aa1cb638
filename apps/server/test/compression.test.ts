// Compression to Kafka: the broker accepts (and validates) what each codec produces, and the
// batches read back were really compressed with it.
import { encodeFrames } from '@kproxy/framing';
import { afterEach, describe, expect, it } from 'vitest';
import { decompressed, registerReadCodecs } from './codecs.js';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'compression-token-1d2e';
let proxy: ServerProcess | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

registerReadCodecs();

describe('Kafka compression (real process, real Kafka)', () => {
  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    'produces %s-compressed batches the broker accepts',
    async (compression) => {
      const topic = uniqueTopic(`compression-${compression}`);
      await createTopic(topic, 1);
      proxy = await spawnServer({
        KAFKA_PROXY_TOKEN: TOKEN,
        KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
        KAFKA_PROXY_TOPIC: topic,
        KAFKA_PROXY_KAFKA_COMPRESSION: compression,
      });
      const values = Array.from({ length: 50 }, (_, i) =>
        `${compression} message ${i} `.repeat(20),
      );
      const res = await fetch(`${proxy.url}/`, {
        method: 'POST',
        headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
        body: encodeFrames(values.map((v) => Buffer.from(v))),
      });
      expect(await res.text()).toBe('50 messages received');
      const before = decompressed[compression];
      expect(texts(await readAll(topic))).toEqual(values);
      expect(decompressed[compression]).toBeGreaterThan(before);
    },
  );
});
