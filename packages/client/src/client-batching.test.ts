import { describe, expect, it } from 'vitest';
import { acceptedTexts } from '@kproxy/fake-proxy';
import { useFakeProxy } from '../test/fake-proxy-client.js';
import { KafkaProxyClient } from './client.js';
import { KafkaProxyError } from './errors.js';

const setup = useFakeProxy();
const { open } = setup;

describe('client-side batching', () => {
  it('delivers 10,000 concurrent sends byte for byte in a handful of requests', async () => {
    const c = open({ batch: { maxMessages: 1000, lingerMs: 20 } });
    const texts = Array.from({ length: 10_000 }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`);
    const results = await Promise.all(texts.map((t) => c.send(t, { topic: 'events' })));
    // Batches travel concurrently (maxInFlight), so compare as sets; each batch keeps its order.
    expect(acceptedTexts(setup.fake).sort()).toEqual([...texts].sort());
    expect(setup.fake.accepted.length).toBe(10);
    expect(setup.fake.accepted.every((r) => r.path === '/topics/events')).toBe(true);
    expect(results.every((r) => r.durable && r.topic === 'events')).toBe(true);
  });

  it('cuts a batch at maxMessages', async () => {
    const c = open({ batch: { maxMessages: 7, lingerMs: 50 } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.send(String(i))));
    expect(setup.fake.accepted.map((r) => r.messages.length)).toEqual([7, 7, 6]);
  });

  it('cuts a batch before its framed body would exceed maxBytes', async () => {
    // 10-byte messages are 14 framed bytes: 3 fit in 50 bytes, a 4th would make 56.
    const c = open({ batch: { maxMessages: 1000, maxBytes: 50, lingerMs: 50 } });
    await Promise.all(Array.from({ length: 10 }, () => c.send('0123456789')));
    expect(setup.fake.accepted.map((r) => r.messages.length)).toEqual([3, 3, 3, 1]);
    expect(Math.max(...setup.fake.accepted.map((r) => r.bodyBytes))).toBeLessThanOrEqual(50);
  });

  it('sends a lone message after lingerMs and groups sends made within it', async () => {
    const c = open({ batch: { lingerMs: 300 } });
    const started = Date.now();
    const first = c.send('a');
    await new Promise((r) => setTimeout(r, 50));
    const second = c.send('b');
    await Promise.all([first, second]);
    expect(setup.fake.accepted).toHaveLength(1);
    expect(acceptedTexts(setup.fake)).toEqual(['a', 'b']);
    expect(setup.fake.accepted[0]!.at - started).toBeGreaterThanOrEqual(290);
  });

  it('keeps one batch per topic and uses POST / for the default topic', async () => {
    const c = open();
    await Promise.all([
      c.send('to-a', { topic: 'a' }),
      c.send('to-default'),
      c.send('to-b', { topic: 'b' }),
      c.send('to-a-again', { topic: 'a' }),
    ]);
    const byPath = Object.fromEntries(
      setup.fake.accepted.map((r) => [r.path, r.messages.map((m) => Buffer.from(m).toString())]),
    );
    expect(byPath).toEqual({
      '/topics/a': ['to-a', 'to-a-again'],
      '/': ['to-default'],
      '/topics/b': ['to-b'],
    });
  });

  it('uses the client topic when a send names none', async () => {
    const c = open({ topic: 'configured' });
    const result = await c.send('x');
    expect(setup.fake.accepted[0]!.path).toBe('/topics/configured');
    expect(result.topic).toBe('configured');
  });

  it('resolves each send with its partition and offset (baseOffset + index)', async () => {
    const c = open();
    await c.sendBatch(['p0', 'p1', 'p2'], { topic: 't' }); // offsets 0..2
    const results = await Promise.all(['a', 'b', 'c'].map((m) => c.send(m, { topic: 't' })));
    expect(results).toEqual([
      { topic: 't', partition: 0, offset: '3', durable: true },
      { topic: 't', partition: 0, offset: '4', durable: true },
      { topic: 't', partition: 0, offset: '5', durable: true },
    ]);
  });

  it('reports the default topic the server says it produced to', async () => {
    setup.fake.defaultTopic = 'where-it-went';
    const result = await open().send('x');
    expect(result.topic).toBe('where-it-went');
  });

  it('sends Buffers, Uint8Arrays and strings (UTF-8) unchanged', async () => {
    const c = open();
    const binary = new Uint8Array([0, 10, 13, 255, 0]);
    await Promise.all([c.send(Buffer.from('buf')), c.send(binary), c.send('héllo ✓'), c.send('')]);
    const got = setup.fake.accepted.flatMap((r) => r.messages.map((m) => Buffer.from(m)));
    expect(got).toEqual([
      Buffer.from('buf'),
      Buffer.from(binary),
      Buffer.from('héllo ✓', 'utf8'),
      Buffer.alloc(0),
    ]);
  });

  it('rejects a message over maxMessageBytes locally, before any request', async () => {
    const c = open({ maxMessageBytes: 8 });
    const err = await c.send('123456789').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaProxyError);
    expect(err).toMatchObject({ code: 'message_too_large', retriable: false, attempts: 0 });
    await expect(c.sendBatch(['ok', '123456789'])).rejects.toMatchObject({
      code: 'message_too_large',
    });
    await c.flush();
    expect(setup.fake.requests).toHaveLength(0);
  });

  it('rejects an invalid topic name locally', async () => {
    const c = open();
    await expect(c.send('x', { topic: 'no spaces' })).rejects.toMatchObject({
      code: 'invalid_topic',
    });
    await expect(c.send('x', { topic: '..' })).rejects.toMatchObject({ code: 'invalid_topic' });
    expect(setup.fake.requests).toHaveLength(0);
  });

  it('sendBatch sends at once, split by the batch limits, results in order', async () => {
    const c = open({ batch: { maxMessages: 4, lingerMs: 60_000 } });
    const results = await c.sendBatch(
      Array.from({ length: 10 }, (_, i) => `m${i}`),
      { topic: 'bulk' },
    );
    expect(setup.fake.accepted.map((r) => r.messages.length)).toEqual([4, 4, 2]);
    expect(results.map((r) => r.offset)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
  });

  it('sendBatch keeps order after queued sends to the same topic', async () => {
    const c = open({ batch: { lingerMs: 60_000 }, maxInFlight: 1 });
    const single = c.send('first', { topic: 'o' });
    await c.sendBatch(['second', 'third'], { topic: 'o' });
    await single;
    expect(acceptedTexts(setup.fake)).toEqual(['first', 'second', 'third']);
  });

  it('refuses options that would let a batch exceed its limits', () => {
    expect(
      () =>
        new KafkaProxyClient({
          url: setup.fake.url,
          token: 't',
          batch: { maxBytes: 100 },
          maxMessageBytes: 97,
        }),
    ).toThrow(expect.objectContaining({ code: 'invalid_option' }));
    expect(() => new KafkaProxyClient({ url: 'ftp://x', token: 't' })).toThrow(
      expect.objectContaining({ code: 'invalid_option' }),
    );
    expect(() => new KafkaProxyClient({ url: setup.fake.url, token: '' })).toThrow(/token/);
  });

  it('keeps a path prefix of the base URL', async () => {
    const c = open({ url: `${setup.fake.url}/kafka/` });
    await c.send('x', { topic: 't' }).catch(() => undefined);
    expect(setup.fake.requests[0]!.path).toBe('/kafka/topics/t');
  });
});
