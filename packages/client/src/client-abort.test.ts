import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { acceptedTexts, kafkaUnavailable } from '@kproxy/fake-proxy';
import { drive, useGatedClient } from '../test/gated-client.js';
import { useFakeProxy } from '../test/fake-proxy-client.js';
import type { FailureEvent } from './options.js';

const setup = useFakeProxy();
const { open } = setup;
const openGated = useGatedClient(setup);

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;
const produceRequests = (): number => setup.fake.requests.filter((r) => r.method === 'POST').length;

describe('cancellation', () => {
  it('takes an aborted send out of its batch before it is sent', async () => {
    const c = open({ batch: { lingerMs: 50 } });
    const controller = new AbortController();
    const kept = c.send('kept');
    const dropped = c.send('dropped', { signal: controller.signal });
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'aborted' });
    await kept;
    expect(acceptedTexts(setup.fake)).toEqual(['kept']);
  });

  it('shares one listener among all sends on the same signal', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const controller = new AbortController();
    const c = open({ batch: { maxMessages: 10 }, maxInFlight: 1 });
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          c.send(`${round}.${i}`, { signal: controller.signal }),
        ),
      );
    }
    const late = c.send('late', { signal: controller.signal });
    controller.abort();
    await expect(late).rejects.toMatchObject({ code: 'aborted' });
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.includes('listeners'))).toEqual([]);
    expect(acceptedTexts(setup.fake)).toHaveLength(600);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const c = open();
    await expect(c.send('x', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'aborted',
    });
    await c.flush();
    expect(setup.fake.requests).toHaveLength(0);
  });

  it('cancels a sendBatch waiting to retry', async () => {
    setup.fake.script.push(kafkaUnavailable('10'));
    const c = open();
    const controller = new AbortController();
    const started = Date.now();
    const sending = c.sendBatch(['a', 'b'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(sending).rejects.toMatchObject({ code: 'aborted', attempts: 1 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(setup.fake.accepted).toHaveLength(0);
  });

  it('gives send and sendBatch the same error, with the reason as its cause', async () => {
    const c = open({ batch: { lingerMs: 60_000 } });
    const controller = new AbortController();
    const reason = new Error('user gave up');
    const one = c.send('one', { signal: controller.signal });
    const many = c.sendBatch(['a', 'b'], { signal: controller.signal });
    controller.abort(reason);
    const expected = { code: 'aborted', cause: reason, retriable: false };
    await expect(one).rejects.toMatchObject(expected);
    await expect(many).rejects.toMatchObject(expected);
  });

  it('rejects a sendBatch at once when the signal is already aborted', async () => {
    const c = open();
    await expect(c.sendBatch(['x'], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'aborted',
      attempts: 0,
    });
    await c.flush();
    expect(setup.fake.requests).toHaveLength(0);
  });

  for (const call of ['send', 'sendBatch'] as const) {
    it(`takes a ${call} waiting for room out of line, then drops its listener`, async () => {
      const { c, gate: g } = openGated({ batch: { maxMessages: 1 }, maxQueuedMessages: 1 });
      const controller = new AbortController();
      const first = c.send('first');
      const dropped =
        call === 'send'
          ? c.send('dropped', { signal: controller.signal })
          : c.sendBatch(['dropped'], { signal: controller.signal });
      expect(c.queued.waiting).toBe(1);
      expect(listeners(controller.signal)).toBe(1);
      controller.abort();
      await expect(dropped).rejects.toMatchObject({ code: 'aborted', attempts: 0 });
      expect(c.queued).toEqual({ bytes: 9, messages: 1, waiting: 0 });
      expect(listeners(controller.signal)).toBe(0);
      await drive(g, first);
      expect(acceptedTexts(setup.fake)).toEqual(['first']);
    });

    it(`takes a ${call} queued behind a request in flight out, and gives its room back`, async () => {
      const { c, gate: g } = openGated({ batch: { maxMessages: 1, lingerMs: 0 }, maxInFlight: 1 });
      const controller = new AbortController();
      const first = c.send('first');
      await g.waitForHeld();
      const dropped =
        call === 'send'
          ? c.send('dropped', { signal: controller.signal })
          : c.sendBatch(['dropped'], { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 20)); // past the linger time: its batch is cut
      expect(c.queued.messages).toBe(2);
      controller.abort();
      await expect(dropped).rejects.toMatchObject({ code: 'aborted', attempts: 0 });
      expect(c.queued).toEqual({ bytes: 9, messages: 1, waiting: 0 });
      expect(listeners(controller.signal)).toBe(0);
      await drive(g, c.flush());
      await first;
      expect(acceptedTexts(setup.fake)).toEqual(['first']);
      expect(produceRequests()).toBe(1);
    });

    it(`cancels the request of a ${call} in flight that nobody else waits for`, async () => {
      const failures: FailureEvent[] = [];
      const { c, gate: g } = openGated({
        batch: { lingerMs: 0 },
        hooks: { onFailure: (event) => void failures.push(event) },
      });
      const controller = new AbortController();
      const dropped =
        call === 'send'
          ? c.send('dropped', { signal: controller.signal })
          : c.sendBatch(['dropped'], { signal: controller.signal });
      await g.waitForHeld();
      controller.abort();
      await expect(dropped).rejects.toMatchObject({ code: 'aborted', attempts: 1 });
      expect(listeners(controller.signal)).toBe(0);
      g.releaseAll();
      await c.flush();
      expect(failures).toMatchObject([{ messages: 1, error: { code: 'aborted' } }]);
      expect(setup.fake.accepted).toHaveLength(0);
      expect(c.queued).toEqual({ bytes: 0, messages: 0, waiting: 0 });
    });
  }

  it('lets a request in flight go on for the sends that still wait for it', async () => {
    const { c, gate: g } = openGated({ batch: { lingerMs: 20 } });
    const controller = new AbortController();
    const kept = c.send('kept');
    const dropped = c.send('dropped', { signal: controller.signal });
    await g.waitForHeld();
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'aborted', attempts: 1 });
    g.releaseAll();
    await expect(kept).resolves.toMatchObject({ durable: true });
    // The aborted message was already on its way, so it landed too.
    expect(acceptedTexts(setup.fake)).toEqual(['kept', 'dropped']);
  });

  it('cancels a lone send waiting to retry', async () => {
    setup.fake.script.push(kafkaUnavailable('10'));
    const c = open({ batch: { lingerMs: 0 } });
    const controller = new AbortController();
    const started = Date.now();
    const sending = c.send('a', { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(sending).rejects.toMatchObject({ code: 'aborted', attempts: 1 });
    await c.flush();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(produceRequests()).toBe(1);
  });

  it('drops the listener of a signal once its sends settle, however they settle', async () => {
    const c = open({ batch: { lingerMs: 0 } });
    const controller = new AbortController();
    const signal = controller.signal;
    await Promise.all([c.send('a', { signal }), c.sendBatch(['b', 'c'], { signal })]);
    expect(listeners(signal)).toBe(0);
    setup.fake.script.push({
      status: 400,
      body: JSON.stringify({ error: 'truncated_frame', message: 'no' }),
    });
    await expect(c.send('d', { signal })).rejects.toMatchObject({ code: 'truncated_frame' });
    expect(listeners(signal)).toBe(0);
  });

  it("drops the listener when the client's own signal rejects the sends", async () => {
    const client = new AbortController();
    const c = open({ signal: client.signal, batch: { lingerMs: 60_000 } });
    const controller = new AbortController();
    const pending = c.send('never', { signal: controller.signal });
    expect(listeners(controller.signal)).toBe(1);
    client.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(listeners(controller.signal)).toBe(0);
  });
});
