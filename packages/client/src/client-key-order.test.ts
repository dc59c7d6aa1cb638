import { describe, expect, it } from 'vitest';
import { useRecordsProxy } from '../test/records-proxy.js';

const setup = useRecordsProxy({ maxInFlight: 4, retry: { initialDelayMs: 1, maxDelayMs: 5 } });
const { open } = setup;

/** The values Kafka wrote for each key, in the order it wrote them. */
function writtenByKey(): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const request of setup.proxy.written) {
    for (const { key, value } of request.records) {
      const name = key === null ? '(none)' : Buffer.from(key).toString();
      byKey.set(name, [...(byKey.get(name) ?? []), Buffer.from(value!).toString()]);
    }
  }
  return byKey;
}

/** A tiny deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('per-key order with maxInFlight > 1', () => {
  it('a later batch with the same key waits for a slow earlier one', async () => {
    const c = open({ batch: { maxMessages: 1 } });
    setup.proxy.plan = (_request, index) => (index === 0 ? { delayMs: 200 } : {});
    await Promise.all([
      c.send({ key: 'k', value: '1' }),
      c.send({ key: 'k', value: '2' }),
      c.send({ key: 'k', value: '3' }),
    ]);
    expect(writtenByKey().get('k')).toEqual(['1', '2', '3']);
    expect(setup.proxy.mostAtOnce).toBe(1);
  });

  it('a later batch with the same key waits while an earlier one is retried', async () => {
    const c = open({ batch: { maxMessages: 1 } });
    let first = true;
    setup.proxy.plan = (request) => {
      const value = Buffer.from(request.records[0]!.value!).toString();
      if (value === '1' && first) {
        first = false;
        return { delayMs: 50, fail: true };
      }
      return {};
    };
    const results = await Promise.all([
      c.send({ key: 'k', value: '1' }),
      c.send({ key: 'k', value: '2' }),
    ]);
    expect(setup.proxy.requests).toHaveLength(3);
    expect(writtenByKey().get('k')).toEqual(['1', '2']);
    expect(results.map((r) => r.offset)).toEqual(['0', '1']);
  });

  it('batches without a shared key still travel together', async () => {
    const c = open({ batch: { maxMessages: 1 } });
    setup.proxy.plan = (_request, index) => ({ delayMs: index === 0 ? 200 : 20 });
    await Promise.all([
      c.send({ key: 'slow', value: '1' }),
      c.send({ key: 'fast', value: '2' }),
      c.send('plain'),
    ]);
    expect(setup.proxy.mostAtOnce).toBe(3);
    const written = setup.proxy.written.map((r) => Buffer.from(r.records[0]!.value!).toString());
    expect(written.slice(0, 2).sort()).toEqual(['2', 'plain']);
    expect(written[2]).toBe('1');
  });

  it('a key sent to a named partition and then to its own stays in order', async () => {
    const c = open({ batch: { lingerMs: 50 } });
    setup.proxy.plan = (request) =>
      request.headers['x-kafka-proxy-partition'] ? { delayMs: 150 } : {};
    await Promise.all([
      c.send({ key: 'k', value: '1', partition: 0 }),
      c.send({ key: 'k', value: '2' }),
      c.send({ key: 'k', value: '3', partition: 0 }),
    ]);
    expect(writtenByKey().get('k')).toEqual(['1', '2', '3']);
  });

  it('a sendBatch split into requests keeps each key in order', async () => {
    const c = open({ batch: { maxMessages: 2 } });
    setup.proxy.plan = (_request, index) => ({ delayMs: index % 2 === 0 ? 60 : 0 });
    const messages = Array.from({ length: 12 }, (_, i) => ({
      key: `k${i % 3}`,
      value: String(i),
      ...(i % 4 === 3 ? { partition: 1 } : {}),
    }));
    await c.sendBatch(messages);
    const expected = (k: number): string[] =>
      messages.filter((_, i) => i % 3 === k).map((m) => m.value);
    expect(writtenByKey()).toEqual(
      new Map([
        ['k0', expected(0)],
        ['k1', expected(1)],
        ['k2', expected(2)],
      ]),
    );
  });

  it('keeps every key in order under random delays and failures with retries', async () => {
    const next = random(7);
    const c = open({ batch: { maxMessages: 3, lingerMs: 2 } });
    let failures = 0;
    setup.proxy.plan = () => {
      const fail = next() < 0.25;
      if (fail) failures++;
      return { delayMs: Math.floor(next() * 30), fail };
    };
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const key = keys[Math.floor(next() * keys.length)]!;
      sends.push(
        c.send(next() < 0.2 ? `plain ${i}` : { key, value: String(i), headers: { n: String(i) } }),
      );
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(sends);
    expect(failures).toBeGreaterThan(5);
    expect(setup.proxy.mostAtOnce).toBeGreaterThan(1);
    for (const [key, values] of writtenByKey()) {
      if (key === '(none)') continue;
      expect(values.map(Number)).toEqual([...values.map(Number)].sort((x, y) => x - y));
    }
    expect([...writtenByKey().values()].flat()).toHaveLength(300);
  });
});
