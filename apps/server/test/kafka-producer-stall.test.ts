// The server's Kafka producer when Kafka accepts connections but never answers: a send must not
// wait forever. It fails retriably (503 `kafka_unavailable`, which the flusher sends again) once
// it has waited SEND_STALL_TIMEOUTS request timeouts, readiness is false meanwhile, and the
// client is replaced, so that once Kafka answers again the next send is written.
//
// The broker is reached through a TCP relay the test can switch to swallowing everything: the
// connection stays open and requests go unanswered, as with a broker that hangs. The relay is the
// only bootstrap broker, which the client asks for metadata and for its idempotent producer id.
import { once } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { SEND_STALL_TIMEOUTS, createKafkaProducer } from '../src/kafka-producer.js';
import type { ProduceBatch, ProduceOutcome, Producer } from '../src/producer.js';
import { brokers, createTopic, readAll, texts, uniqueTopic } from './kafka.js';

const REQUEST_TIMEOUT_MS = 400;
const STALL_MS = SEND_STALL_TIMEOUTS * REQUEST_TIMEOUT_MS;

/** A TCP relay to `target` that, while `hanging`, reads and drops everything in both directions. */
class Relay {
  hanging = false;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(target: { host: string; port: number }) {
    this.#server = net.createServer((client) => {
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => undefined);
      if (this.hanging) {
        client.resume(); // read, never answer
        return;
      }
      const broker = net.connect(target);
      this.#sockets.add(broker);
      broker.on('close', () => this.#sockets.delete(broker));
      broker.on('error', () => client.destroy());
      client.on('close', () => broker.destroy());
      broker.on('close', () => client.destroy());
      client.on('data', (chunk: Buffer) => {
        if (!this.hanging) broker.write(chunk);
      });
      broker.on('data', (chunk: Buffer) => {
        if (!this.hanging) client.write(chunk);
      });
    });
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  /** Starts answering again; connections that were left hanging are cut, as a recovered broker's. */
  answer(): void {
    this.hanging = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const batchOf = (topic: string, text: string): ProduceBatch[] => [
  { topic, partition: 0, messages: [Buffer.from(text)] },
];

/** The outcome of one send, with how long it took and whether readiness was ever true meanwhile. */
async function timedSend(
  producer: Producer,
  batches: ProduceBatch[],
): Promise<{ outcome: ProduceOutcome | undefined; ms: number; readyAfterTimeout: boolean }> {
  const started = Date.now();
  let readyAfterTimeout = false;
  const watch = setInterval(() => {
    if (Date.now() - started > REQUEST_TIMEOUT_MS + 100 && producer.isReady()) {
      readyAfterTimeout = true;
    }
  }, 20);
  try {
    const [outcome] = await producer.send(batches);
    return { outcome, ms: Date.now() - started, readyAfterTimeout };
  } finally {
    clearInterval(watch);
  }
}

describe('the Kafka producer when Kafka stops answering (real broker behind a relay)', () => {
  it('fails a send that gets no answer retriably within the bound, and recovers once Kafka answers', async () => {
    const [first] = brokers();
    if (first === undefined) throw new Error('KAFKA_BROKERS names no broker');
    const [host = '127.0.0.1', port = '9092'] = first.split(':');
    const relay = new Relay({ host, port: Number(port) });
    relays.push(relay);
    const bootstrap = await relay.listen();
    const written = await createTopic(uniqueTopic('producer-stall-written'), 1);
    const later = await createTopic(uniqueTopic('producer-stall-later'), 1);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const producer = createKafkaProducer({
      kafka: {
        brokers: [bootstrap],
        clientId: 'producer-stall-test',
        compression: 'none',
        sasl: undefined,
        tls: false,
        tlsCa: undefined,
      },
      logger,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      probeIntervalMs: 100,
    });
    try {
      await producer.connect();
      expect(producer.isReady()).toBe(true);
      const before = await producer.send(batchOf(written, 'before'));
      expect(before[0]).toHaveProperty('result');

      // Kafka hangs: a send that needs the bootstrap broker (metadata of a topic not seen yet)
      // gets no answer.
      relay.hanging = true;
      const stalled = await timedSend(producer, batchOf(later, 'stalled'));
      const error =
        stalled.outcome !== undefined && 'error' in stalled.outcome
          ? stalled.outcome.error
          : undefined;
      expect(error).toBeInstanceOf(ProxyError);
      expect(error).toMatchObject({ code: 'kafka_unavailable', retriable: true });
      // (A readiness probe already waiting when Kafka hung may hit the bound a moment earlier.)
      expect(stalled.ms).toBeGreaterThanOrEqual(STALL_MS - 200);
      expect(stalled.ms).toBeLessThan(STALL_MS + 1_000);
      expect(stalled.readyAfterTimeout).toBe(false);
      expect(producer.isReady()).toBe(false);
      expect(lines.some((line) => line.includes('replacing the Kafka client'))).toBe(true);

      // Kafka answers again: the producer turns ready by itself and the next send is written.
      relay.answer();
      await waitFor('readiness', () => producer.isReady());
      const after = await producer.send(batchOf(later, 'after'));
      expect(after[0]).toHaveProperty('result');
    } finally {
      await producer.disconnect();
    }
    expect(texts(await readAll(written))).toEqual(['before']);
    expect(texts(await readAll(later))).toContain('after');
  }, 60_000);
});
