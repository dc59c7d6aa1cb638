import { describe, expect, it } from 'vitest';
import { acceptedTexts } from '@kproxy/fake-proxy';
import { drive, useGatedClient } from '../test/gated-client.js';
import { useFakeProxy } from '../test/fake-proxy-client.js';
import { DEFAULTS } from './options.js';

const setup = useFakeProxy();
/** A client whose produce requests wait at a gate until the test releases them. */
const openGated = useGatedClient(setup);

const text = (char: string, framedBytes: number): string => char.repeat(framedBytes - 4);

describe('queue bound', () => {
  it('never holds more than maxQueuedBytes while a slow server holds requests', async () => {
    const peaks: number[] = [];
    const { c, gate: g } = openGated(
      {
        batch: { maxBytes: 200, lingerMs: 1 },
        maxQueuedBytes: 1000,
        maxInFlight: 2,
        topic: 'bounded',
      },
      (client) => void peaks.push(client.queued.bytes),
    );
    // 100 messages of 50 framed bytes: 5000 bytes, five times the bound.
    const texts = Array.from({ length: 100 }, (_, i) => text(String(i % 10), 50));
    const sends = texts.map((t) => {
      const sent = c.send(t);
      peaks.push(c.queued.bytes);
      return sent;
    });
    expect(c.queued).toEqual({ bytes: 1000, messages: 20, waiting: 80 });
    await drive(g, Promise.all(sends));
    expect(Math.max(...peaks)).toBe(1000);
    expect(acceptedTexts(setup.fake).sort()).toEqual([...texts].sort());
    expect(c.queued).toEqual({ bytes: 0, messages: 0, waiting: 0 });
  });

  it('bounds messages with maxQueuedMessages', async () => {
    const { c, gate: g } = openGated({ batch: { maxMessages: 5 }, maxQueuedMessages: 10 });
    const sends = Array.from({ length: 30 }, (_, i) => c.send(String(i)));
    expect(c.queued).toMatchObject({ messages: 10, waiting: 20 });
    await drive(g, Promise.all(sends));
    expect(setup.fake.accepted.map((r) => r.messages.length)).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it('lets waiters in first come, first served: a small send never overtakes a large one', async () => {
    const { c, gate: g } = openGated({
      batch: { maxBytes: 100, lingerMs: 0 },
      maxQueuedBytes: 100,
      maxInFlight: 1,
    });
    const first = c.send(text('a', 64));
    const large = c.send(text('b', 64));
    const small = c.send(text('c', 5)); // would fit beside the first, but waits its turn
    expect(c.queued).toEqual({ bytes: 64, messages: 1, waiting: 2 });
    await drive(g, Promise.all([first, large, small]));
    expect(acceptedTexts(setup.fake)).toEqual([text('a', 64), text('b', 64), text('c', 5)]);
  });

  it('keeps per-topic order across many waiters', async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 3, lingerMs: 0 },
      maxQueuedMessages: 3,
      maxInFlight: 1,
    });
    const texts = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const sends = texts.map((t, i) => c.send(t, { topic: i % 2 === 0 ? 'even' : 'odd' }));
    await drive(g, Promise.all(sends));
    const of = (topic: string): string[] =>
      setup.fake.accepted
        .filter((r) => r.topic === topic)
        .flatMap((r) => r.messages.map((m) => Buffer.from(m).toString()));
    expect(of('even')).toEqual(texts.filter((_, i) => i % 2 === 0));
    expect(of('odd')).toEqual(texts.filter((_, i) => i % 2 === 1));
  });

  it('makes sendBatch requests wait their turn too', async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 2, lingerMs: 0 },
      maxQueuedMessages: 2,
      maxInFlight: 1,
    });
    const before = c.send('0');
    const batch = c.sendBatch(['1', '2', '3', '4', '5']);
    const after = c.send('6');
    expect(c.queued.waiting).toBe(4);
    await drive(g, Promise.all([before, batch, after]));
    expect(acceptedTexts(setup.fake)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('waitForRoom resolves once nobody waits and there is room', async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 1, lingerMs: 0 },
      maxQueuedMessages: 1,
    });
    await c.waitForRoom();
    const sends = [c.send('a'), c.send('b')];
    let roomy = false;
    const room = c.waitForRoom().then(() => (roomy = true));
    await g.waitForHeld();
    g.releaseOne(); // 'a' settles; 'b' takes its place, so still no room
    await sends[0];
    expect(roomy).toBe(false);
    await g.waitForHeld();
    g.releaseOne();
    await room;
    await Promise.all(sends);
  });

  it('rejects out-of-range limits with invalid_option', () => {
    expect(() => setup.open({ maxQueuedBytes: DEFAULTS.maxBytes - 1 })).toThrow(
      expect.objectContaining({ code: 'invalid_option' }),
    );
    expect(() => setup.open({ batch: { maxMessages: 10 }, maxQueuedMessages: 9 })).toThrow(
      expect.objectContaining({ code: 'invalid_option' }),
    );
  });
});

describe('when the queue is full', () => {
  it('an aborted waiter leaves the line and is never sent', async () => {
    const { c, gate: g } = openGated({ batch: { maxMessages: 1 }, maxQueuedMessages: 1 });
    const controller = new AbortController();
    const first = c.send('first');
    const dropped = c.send('dropped', { signal: controller.signal });
    const last = c.send('last');
    expect(c.queued.waiting).toBe(2);
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'aborted' });
    expect(c.queued.waiting).toBe(1);
    await drive(g, Promise.all([first, last]));
    expect(acceptedTexts(setup.fake)).toEqual(['first', 'last']);
  });

  it("an aborted sendBatch request leaves the line; the other requests' room is kept", async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 1, lingerMs: 0 },
      maxQueuedMessages: 1,
      maxInFlight: 1,
    });
    const controller = new AbortController();
    const first = c.send('first');
    const batch = c.sendBatch(['x', 'y'], { signal: controller.signal });
    const last = c.send('last');
    controller.abort();
    await expect(batch).rejects.toMatchObject({ code: 'aborted' });
    await drive(g, Promise.all([first, last]));
    expect(acceptedTexts(setup.fake)).toEqual(['first', 'last']);
  });

  it("with onFull: 'reject' rejects at once with a retriable queue_full", async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 2 },
      maxQueuedMessages: 2,
      onFull: 'reject',
    });
    const kept = [c.send('a'), c.send('b')];
    await expect(c.send('c')).rejects.toMatchObject({ code: 'queue_full', retriable: true });
    await expect(c.sendBatch(['d'])).rejects.toMatchObject({ code: 'queue_full' });
    expect(c.queued).toEqual({ bytes: 10, messages: 2, waiting: 0 });
    await drive(g, Promise.all(kept));
    await Promise.all([c.send('c'), g.waitForHeld().then(() => g.releaseOne())]);
    expect(acceptedTexts(setup.fake)).toEqual(['a', 'b', 'c']);
  });

  it("with onFull: 'reject' sendBatch sends what fits and refuses the rest in order", async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 2 },
      maxQueuedMessages: 3,
      maxInFlight: 1,
      onFull: 'reject',
    });
    // Requests of 2, 2 and 1 messages: the second does not fit, so the third is refused too.
    const batch = c.sendBatch(['a', 'b', 'c', 'd', 'e']);
    await expect(batch).rejects.toMatchObject({ code: 'queue_full' });
    expect(c.queued.messages).toBe(2);
    await drive(g, c.flush());
    expect(acceptedTexts(setup.fake)).toEqual(['a', 'b']);
  });

  it('frees the room of a failed request so later sends go on', async () => {
    const { c, gate: g } = openGated({ batch: { maxMessages: 1 }, maxQueuedMessages: 1 });
    setup.fake.script.push({
      status: 400,
      body: JSON.stringify({ error: 'truncated_frame', message: 'no' }),
    });
    const failed = c.send('rejected');
    const later = c.send('later');
    expect(c.queued.waiting).toBe(1);
    const outcome = Promise.allSettled([failed, later]);
    await drive(g, outcome);
    await expect(failed).rejects.toMatchObject({ code: 'truncated_frame', status: 400 });
    await expect(later).resolves.toMatchObject({ durable: true });
    expect(c.queued).toEqual({ bytes: 0, messages: 0, waiting: 0 });
  });

  it('close() delivers the waiters too, then refuses new sends', async () => {
    const { c, gate: g } = openGated({
      batch: { maxMessages: 1, lingerMs: 60_000 },
      maxQueuedMessages: 1,
    });
    const sends = ['one', 'two', 'three'].map((m) => c.send(m));
    expect(c.queued.waiting).toBe(2);
    const closing = c.close();
    await expect(c.send('late')).rejects.toMatchObject({ code: 'client_closed' });
    await drive(g, closing);
    await expect(Promise.all(sends)).resolves.toHaveLength(3);
    expect(acceptedTexts(setup.fake)).toEqual(['one', 'two', 'three']);
  });

  it("aborting the client's signal rejects the waiters", async () => {
    const controller = new AbortController();
    const { c, gate: g } = openGated({
      batch: { maxMessages: 1 },
      maxQueuedMessages: 1,
      signal: controller.signal,
    });
    const first = c.send('first');
    const waiting = c.send('waiting');
    await g.waitForHeld();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'aborted' });
    g.releaseAll(); // the held request learns of the abort once it is dispatched
    await expect(first).rejects.toMatchObject({ code: 'aborted' });
    expect(c.queued.waiting).toBe(0);
  });
});
