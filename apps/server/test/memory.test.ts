// Suite 5: a 200 MB body streamed chunked is refused by the limits while the server's own resident
// memory stays within the buffer bound plus a constant: bodies are decoded as they arrive, never
// buffered whole.
import { encodeFrames } from '@kproxy/framing';
import { afterEach, describe, expect, it } from 'vitest';
import { brokers, createTopic, messageCount, uniqueTopic } from './kafka.js';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';

const TOKEN = 'memory-token-c3d4';
const MiB = 1024 * 1024;
const BODY_BYTES = 200 * MiB;
/** Headroom over the buffer bound for V8, zlib and socket buffers: generous, but far below 200 MB. */
const MARGIN = 96 * MiB;
/**
 * Headroom when the body is accepted: kafkajs encodes each ~1 MB record batch into growing buffers
 * and copies it into the request, ~1 GB of short-lived garbage for 200 MB that V8 collects lazily.
 */
const SENDING_MARGIN = 192 * MiB;

let running: ServerProcess | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const FRAMES_PER_CHUNK = 64;
const CHUNK_BYTES = FRAMES_PER_CHUNK * 1004;
const MESSAGES = Math.ceil(BODY_BYTES / CHUNK_BYTES) * FRAMES_PER_CHUNK;

/** 200 MB of 1000-byte frames, generated as the upload pulls, so the test holds little itself. */
function hugeBody(): ReadableStream<Uint8Array> {
  const chunk = encodeFrames(
    Array.from({ length: FRAMES_PER_CHUNK }, () => new Uint8Array(1000).fill(7)),
  );
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= BODY_BYTES) {
        controller.close();
        return;
      }
      controller.enqueue(chunk.slice());
      sent += chunk.byteLength;
    },
  });
}

async function residentBytes(url: string): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { 'x-kafka-proxy-token': TOKEN } })
  ).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1]);
}

async function uploadWhileSampling(url: string) {
  let peak = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, await residentBytes(url));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let status: number | string;
  let error: string | undefined;
  try {
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: { 'x-kafka-proxy-token': TOKEN, 'content-type': 'application/octet-stream' },
      body: hugeBody(),
      duplex: 'half',
    });
    status = res.status;
    const text = await res.text();
    error = res.ok ? undefined : (JSON.parse(text) as { error: string }).error;
  } catch (e) {
    // The server may close the connection after answering, before the client finished sending.
    status = `connection closed: ${(e as Error).message}`;
  }
  done = true;
  await sampler;
  peak = Math.max(peak, await residentBytes(url));
  return { status, error, peak };
}

describe('a 200 MB chunked body (real process, real Kafka)', () => {
  it.each([
    {
      name: 'refused at the body limit (413)',
      env: {
        KAFKA_PROXY_MAX_BODY_BYTES: String(16 * MiB),
        KAFKA_PROXY_MAX_BUFFERED_BYTES: String(32 * MiB),
      },
      bound: 32 * MiB,
      margin: MARGIN,
      expected: { status: 413, error: 'body_too_large' },
    },
    {
      name: 'accepted (200) when the limits allow it',
      env: {
        KAFKA_PROXY_MAX_BODY_BYTES: String(256 * MiB),
        KAFKA_PROXY_MAX_BUFFERED_BYTES: String(256 * MiB),
        KAFKA_PROXY_MAX_BODY_MESSAGES: String(MESSAGES),
        KAFKA_PROXY_ACK_TIMEOUT: '60',
      },
      bound: 256 * MiB,
      margin: SENDING_MARGIN,
      expected: { status: 200, error: undefined },
    },
  ])(
    '$name without RSS growing past the bound plus a constant',
    async ({ env, bound, margin, expected }) => {
      const topic = uniqueTopic('memory');
      await createTopic(topic, 1);
      running = await spawnServer({
        KAFKA_PROXY_TOKEN: TOKEN,
        KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
        KAFKA_PROXY_TOPIC: topic,
        ...env,
      });
      const baseline = await residentBytes(running.url);
      const { status, error, peak } = await uploadWhileSampling(running.url);
      console.log(
        `200 MB upload: ${String(status)} ${error ?? ''}; RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, bound ${(bound / MiB).toFixed(0)} MiB`,
      );
      if (typeof status === 'number') expect({ status, error }).toEqual(expected);
      expect(peak).toBeLessThan(baseline + bound + margin);
      // All or nothing: Kafka holds the whole body or none of it.
      expect(await messageCount(topic)).toBe(status === 200 ? MESSAGES : 0);
    },
    120_000,
  );
});
