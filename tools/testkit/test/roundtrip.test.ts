// Proves the harness is a real Kafka: framed bodies are decoded with @kproxy/framing, produced
// the way the proxy produces (idempotent, acks=all) and read back byte for byte.
import { decodeFrames, encodeFrames } from '@kproxy/framing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import {
  createProducer,
  createTopic,
  kafkaBrokers,
  readMessages,
  uniqueTopic,
} from '../src/index.js';

const MiB = 1024 * 1024;

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

describe('a real Kafka broker', () => {
  let producer: Producer;

  beforeAll(async () => {
    producer = createProducer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
  });

  it('is reachable on 127.0.0.1', () => {
    expect(kafkaBrokers().length).toBeGreaterThan(0);
    for (const broker of kafkaBrokers()) expect(broker).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('returns framed binary messages byte for byte, in order', async () => {
    const topic = await createTopic(uniqueTopic('roundtrip'));
    const sent = [
      new TextEncoder().encode('This is a test'),
      bytes(0, 0, 0, 0),
      bytes(0x0a, 0x0d, 0x0a, 0x00, 0xff, 0xfe, 0x00),
      new Uint8Array(0),
      Uint8Array.from({ length: 256 }, (_, i) => i),
      new TextEncoder().encode('line one\nline two\n'),
    ];
    const body = encodeFrames(sent);
    const messages = decodeFrames(body);
    expect(messages).toHaveLength(sent.length);

    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ value: Buffer.from(m) })),
    });

    const read = await readMessages(topic, { count: sent.length, timeoutMs: 30_000 });
    expect(read.map((m) => m.offset)).toEqual(sent.map((_, i) => String(i)));
    read.forEach((message, i) => {
      expect(message.partition).toBe(0);
      expect(message.isNull).toBe(false);
      expect(Buffer.compare(message.value, Buffer.from(sent[i] ?? []))).toBe(0);
    });
  });

  it('keeps an empty message empty (not null)', async () => {
    const topic = await createTopic(uniqueTopic('empty'));
    const [empty] = decodeFrames(bytes(0, 0, 0, 0));
    expect(empty).toHaveLength(0);
    await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from(empty ?? []) }] });

    const [read] = await readMessages(topic, { count: 1 });
    expect(read?.isNull).toBe(false);
    expect(read?.value).toHaveLength(0);
  });

  it('carries a 1 MiB message (the broker allows up to 20 MiB)', async () => {
    const topic = await createTopic(uniqueTopic('large'));
    const big = new Uint8Array(MiB);
    for (let i = 0; i < big.length; i += 1) big[i] = (i * 7919) % 251; // zeros, newlines, all
    const [decoded] = decodeFrames(encodeFrames([big]));
    expect(decoded).toHaveLength(MiB);

    await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from(decoded ?? []) }] });

    const [read] = await readMessages(topic, { count: 1 });
    expect(read?.value.length).toBe(MiB);
    expect(read !== undefined && Buffer.compare(read.value, Buffer.from(big))).toBe(0);
  });

  it('reports how many messages it read when fewer arrive than expected', async () => {
    const topic = await createTopic(uniqueTopic('short'));
    await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from('only one') }] });

    await expect(readMessages(topic, { count: 2, timeoutMs: 2_000 })).rejects.toThrow(
      /read 1 of 2 message\(s\) from topic short-/,
    );
  });
});
