import { describe, expect, it } from 'vitest';
import { BufferBudget } from './buffer-budget.js';
import { ProxyError } from './errors.js';
import { Flusher, type FlusherOptions } from './flusher.js';
import { FakeProducer } from '../test/support/fake-producer.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(overrides: Partial<FlusherOptions> = {}) {
  const producer = new FakeProducer();
  const budget = new BufferBudget(1 << 20);
  const flusher = new Flusher({
    producer,
    maxMessages: 100,
    maxBytes: 1 << 20,
    lingerMs: 5,
    retryDelayMs: { min: 5, max: 20 },
    ...overrides,
  });
  const request = (topic: string, texts: string[], ackTimeoutMs?: number) => {
    const messages = texts.map(enc);
    const bytes = messages.reduce((n, m) => n + m.byteLength, 0);
    const reservation = budget.reserve();
    reservation.grow(bytes);
    return flusher.enqueue({ topic, messages, bytes, reservation }, { ackTimeoutMs });
  };
  return { producer, budget, flusher, request };
}

describe('Flusher', () => {
  it('batches concurrent requests into one send and reports each request its own offsets', async () => {
    const { producer, request } = setup({ partitionCountTtlMs: 60_000 });
    producer.partitions = 1;
    const tickets = await Promise.all([
      request('t', ['a', 'b']),
      request('t', ['c']),
      request('t', ['d', 'e', 'f']),
    ]);
    const deliveries = await Promise.all(tickets.map((t) => t.delivered));
    expect(producer.sends).toHaveLength(1);
    expect(deliveries.map((d) => d.baseOffset)).toEqual(['0', '2', '3']);
    expect(producer.text('t').get(0)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('sends when the message count threshold is reached without waiting for the linger time', async () => {
    const { producer, request } = setup({ maxMessages: 4, lingerMs: 60_000 });
    const started = Date.now();
    const [a, b] = await Promise.all([request('t', ['1', '2']), request('t', ['3', '4'])]);
    await Promise.all([a.delivered, b.delivered]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(producer.sends).toHaveLength(1);
  });

  it('sends when the byte threshold is reached', async () => {
    const { producer, request } = setup({ maxBytes: 10, lingerMs: 60_000 });
    const ticket = await request('t', ['0123456789']);
    await ticket.delivered;
    expect(producer.sends).toHaveLength(1);
  });

  it('sends after the linger time when no threshold is reached', async () => {
    const { producer, request } = setup({ lingerMs: 30 });
    const started = Date.now();
    const ticket = await request('t', ['x']);
    expect(producer.sends).toHaveLength(0);
    await ticket.delivered;
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(producer.sends).toHaveLength(1);
  });

  it('never splits a request: one larger than the thresholds goes alone, whole, to one partition', async () => {
    const { producer, request } = setup({ maxMessages: 3, lingerMs: 1 });
    const big = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const [small, large] = await Promise.all([request('t', ['s']), request('t', big)]);
    const [d1, d2] = await Promise.all([small.delivered, large.delivered]);
    for (const send of producer.sends) {
      for (const batch of send) expect([1, 10]).toContain(batch.messages.length);
    }
    expect(
      producer
        .text('t')
        .get(d2.partition)
        ?.slice(Number(d2.baseOffset), Number(d2.baseOffset) + 10),
    ).toEqual(big);
    expect(d1.partition).not.toBe(d2.partition);
  });

  it('spreads requests round-robin over the partitions, each request in request order', async () => {
    const { producer, request } = setup();
    const tickets = await Promise.all(
      Array.from({ length: 6 }, (_, i) => request('t', [`${i}a`, `${i}b`])),
    );
    const deliveries = await Promise.all(tickets.map((t) => t.delivered));
    expect(new Set(deliveries.map((d) => d.partition))).toEqual(new Set([0, 1, 2]));
    for (const [i, d] of deliveries.entries()) {
      const log = producer.text('t').get(d.partition) ?? [];
      expect(log.slice(Number(d.baseOffset), Number(d.baseOffset) + 2)).toEqual([`${i}a`, `${i}b`]);
    }
  });

  it('keeps at most maxInFlight sends in flight and batches what arrives meanwhile', async () => {
    const { producer, request } = setup({ lingerMs: 0, maxInFlight: 2 });
    let open!: () => void;
    producer.gate = new Promise((resolve) => (open = resolve));
    const first = await request('t', ['1']);
    await new Promise((r) => setTimeout(r, 5));
    const second = await request('t', ['2']);
    await new Promise((r) => setTimeout(r, 5));
    const later = await Promise.all([
      request('t', ['3']),
      request('t', ['4']),
      request('t', ['5']),
    ]);
    await new Promise((r) => setTimeout(r, 5));
    expect(producer.sends).toHaveLength(2);
    open();
    await Promise.all([first, second, ...later].map((t) => t.delivered));
    expect(producer.maxInFlight).toBe(2);
    expect(producer.sends).toHaveLength(3);
    expect(producer.sends[2]?.reduce((n, b) => n + b.messages.length, 0)).toBe(3);
  });

  it('sends one batch at a time with maxInFlight 1', async () => {
    const { producer, request } = setup({ lingerMs: 0, maxInFlight: 1 });
    let open!: () => void;
    producer.gate = new Promise((resolve) => (open = resolve));
    const tickets = [await request('t', ['1'])];
    await new Promise((r) => setTimeout(r, 5));
    tickets.push(await request('t', ['2']));
    await new Promise((r) => setTimeout(r, 5));
    expect(producer.sends).toHaveLength(1);
    open();
    await Promise.all(tickets.map((t) => t.delivered));
    expect(producer.maxInFlight).toBe(1);
    expect(producer.sends).toHaveLength(2);
  });

  it('rejects every request of a batch Kafka refuses for good and releases their bytes', async () => {
    const { producer, request, budget } = setup();
    producer.failWith = new ProxyError('kafka_rejected', 'refused');
    const tickets = await Promise.all([request('t', ['a']), request('t', ['b'])]);
    for (const t of tickets)
      await expect(t.delivered).rejects.toMatchObject({ code: 'kafka_rejected', retriable: false });
    expect(producer.sends).toHaveLength(1);
    expect(budget.used).toBe(0);
  });

  it('sends a batch that failed retriably again until Kafka takes it, in order', async () => {
    const { producer, request, budget } = setup({ lingerMs: 0 });
    producer.partitions = 1;
    producer.failWith = new ProxyError('kafka_unavailable', 'down');
    const tickets = await Promise.all([request('t', ['a']), request('t', ['b', 'c'])]);
    await new Promise((r) => setTimeout(r, 40));
    expect(producer.sends.length).toBeGreaterThan(1);
    expect(budget.used).toBeGreaterThan(0);
    producer.failWith = undefined;
    const deliveries = await Promise.all(tickets.map((t) => t.delivered));
    expect(deliveries.map((d) => d.baseOffset)).toEqual(['0', '1']);
    expect(producer.text('t').get(0)).toEqual(['a', 'b', 'c']);
    expect(budget.used).toBe(0);
  });

  it('settles a batch per partition: written partitions are delivered, a failed one is retried', async () => {
    const { producer, request } = setup({ lingerMs: 0 });
    producer.partitions = 2;
    let failing = true;
    producer.failBatch = (batch) =>
      failing && batch.partition === 1
        ? new ProxyError('kafka_unavailable', 'leader moved')
        : undefined;
    const tickets = await Promise.all([request('t', ['a']), request('t', ['b'])]);
    const onZero = tickets.find((t) => t.partition === 0);
    const onOne = tickets.find((t) => t.partition === 1);
    await expect(onZero?.delivered).resolves.toMatchObject({ partition: 0, baseOffset: '0' });
    expect(producer.logs.get('t/1')).toBeUndefined();
    failing = false;
    await expect(onOne?.delivered).resolves.toMatchObject({ partition: 1, baseOffset: '0' });
    expect([...producer.text('t').values()].flat().sort()).toEqual(['a', 'b']);
  });

  it('drops a request whose ack timeout passes before it is sent, so it is never produced', async () => {
    const { producer, request, budget } = setup({ lingerMs: 200 });
    const ticket = await request('t', ['gone'], 20);
    await expect(ticket.delivered).rejects.toMatchObject({ code: 'ack_timeout', status: 503 });
    expect(budget.used).toBe(0);
    await new Promise((r) => setTimeout(r, 250));
    expect(producer.sends).toHaveLength(0);
  });

  it('answers a request in flight at its ack timeout by the outcome, never by a guess', async () => {
    const { producer, request, budget } = setup({ lingerMs: 0 });
    let open!: () => void;
    producer.gate = new Promise((resolve) => (open = resolve));
    const ticket = await request('t', ['slow'], 20);
    let answered = false;
    void ticket.delivered.finally(() => (answered = true)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 60));
    // Past its ack timeout, but sent: Kafka may be writing it, so no 503 yet.
    expect(answered).toBe(false);
    open();
    await expect(ticket.delivered).resolves.toMatchObject({ topic: 't', baseOffset: '0' });
    expect(producer.text('t').size).toBe(1);
    expect(budget.used).toBe(0);
  });

  it('sends again, past its ack timeout, a request whose attempt failed, until it is written', async () => {
    const { producer, request } = setup({ lingerMs: 0, retryDelayMs: { min: 5, max: 10 } });
    producer.failWith = new ProxyError('kafka_unavailable', 'down');
    const ticket = await request('t', ['late'], 20);
    await new Promise((r) => setTimeout(r, 60));
    expect(producer.sends.length).toBeGreaterThan(1);
    producer.failWith = undefined;
    await expect(ticket.delivered).resolves.toMatchObject({ baseOffset: '0' });
    expect([...producer.text('t').values()].flat()).toEqual(['late']);
  });

  it('counts what is buffered or in flight, by topic', async () => {
    const { request, flusher } = setup({ lingerMs: 60_000 });
    await Promise.all([request('t', ['a', 'b']), request('u', ['c'])]);
    expect(flusher.unsent()).toEqual({
      requests: 2,
      messages: 3,
      bytes: 3,
      topics: { t: 2, u: 1 },
    });
  });

  it('flushes everything on close and refuses requests afterwards, giving back their bytes', async () => {
    const { producer, request, flusher, budget } = setup({ lingerMs: 60_000 });
    const tickets = await Promise.all([request('t', ['a']), request('u', ['b'])]);
    await flusher.close();
    expect(producer.sends.flat().reduce((n, b) => n + b.messages.length, 0)).toBe(2);
    await Promise.all(tickets.map((t) => t.delivered));
    expect(budget.used).toBe(0);
    await expect(request('t', ['late'])).rejects.toMatchObject({ code: 'shutting_down' });
    expect(budget.used).toBe(0);
  });

  it('fails with kafka_unavailable when the partition count cannot be read, holding no bytes', async () => {
    const { producer, request, budget } = setup();
    producer.partitionCount = () =>
      Promise.reject(new ProxyError('kafka_unavailable', 'no metadata'));
    await expect(request('t', ['a'])).rejects.toMatchObject({ code: 'kafka_unavailable' });
    expect(budget.used).toBe(0);
  });

  it('answers ack_timeout when the partition count takes longer than the ack timeout', async () => {
    const { producer, request, budget } = setup();
    producer.partitionCount = () => new Promise(() => undefined);
    await expect(request('t', ['a'], 20)).rejects.toMatchObject({ code: 'ack_timeout' });
    expect(budget.used).toBe(0);
  });
});

describe('Flusher.expedite', () => {
  it('sends buffered requests at once instead of waiting for the linger time', async () => {
    const { producer, request, flusher } = setup({ lingerMs: 60_000 });
    const ticket = await request('t', ['now']);
    expect(producer.sends).toHaveLength(0);
    flusher.expedite();
    await ticket.delivered;
    const later = await request('t', ['also now']);
    await later.delivered;
    expect(producer.sends).toHaveLength(2);
  });
});
