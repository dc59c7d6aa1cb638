// Compression to Kafka: the broker accepts (and validates) what each pure-JS codec produces.
import { encodeFrames } from '@kproxy/framing';
import kafkajs from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import { afterEach, describe, expect, it } from 'vitest';
import { createLz4Codec } from '../src/lz4-codec.js';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'compression-token-1d2e';
let proxy: ServerProcess | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

// The read-back consumer needs the same codecs to decompress.
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.Snappy] = createSnappyCodec;
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = createLz4Codec;

describe('Kafka compression (real process, real Kafka)', () => {
  it.each(['gzip', 'snappy', 'lz4'])(
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
      expect(texts(await readAll(topic))).toEqual(values);
    },
  );
});
