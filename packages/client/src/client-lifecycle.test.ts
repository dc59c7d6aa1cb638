import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { acceptedTexts } from '@kproxy/fake-proxy';
import { useFakeProxy } from '../test/fake-proxy-client.js';
import type { BatchSentEvent } from './options.js';

const setup = useFakeProxy();
const { open } = setup;

describe('close', () => {
  it('flushes queued messages before it resolves', async () => {
    const c = open({ batch: { lingerMs: 60_000 } });
    const sends = ['one', 'two', 'three'].map((m) => c.send(m, { topic: 'late' }));
    await c.close();
    expect(acceptedTexts(setup.fake)).toEqual(['one', 'two', 'three']);
    await expect(Promise.all(sends)).resolves.toHaveLength(3);
  });

  it('refuses sends once closing, with client_closed', async () => {
    const c = open();
    const closing = c.close();
    await expect(c.send('late')).rejects.toMatchObject({ code: 'client_closed' });
    await expect(c.sendBatch(['late'])).rejects.toMatchObject({ code: 'client_closed' });
    await closing;
    await expect(c.getTopic()).rejects.toMatchObject({ code: 'client_closed' });
    expect(setup.fake.requests).toHaveLength(0);
  });

  it('leaves a dispatcher it was given open', async () => {
    const agent = new Agent();
    const c = open({ dispatcher: agent });
    await c.send('x');
    await c.close();
    const res = await request(`${setup.fake.url}/healthz`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    await agent.close();
  });

  it('flush() sends lingering batches and waits for them', async () => {
    const c = open({ batch: { lingerMs: 60_000 } });
    const sent = c.send('now');
    await c.flush();
    expect(acceptedTexts(setup.fake)).toEqual(['now']);
    await sent;
  });
});

describe('the client signal', () => {
  it('the client signal rejects everything pending and closes the client', async () => {
    const controller = new AbortController();
    const c = open({ signal: controller.signal, batch: { lingerMs: 60_000 } });
    const pending = c.send('never');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    await expect(c.send('after')).rejects.toMatchObject({ code: 'client_closed' });
    expect(setup.fake.accepted).toHaveLength(0);
  });
});

describe('default topic, health, compression, hooks', () => {
  it('getTopic and setTopic read and change the server default topic', async () => {
    const c = open();
    expect(await c.getTopic()).toBe('default-topic');
    await c.setTopic('next-topic');
    expect(await c.getTopic()).toBe('next-topic');
    expect(setup.fake.defaultTopic).toBe('next-topic');
    await expect(c.setTopic('bad/topic')).rejects.toMatchObject({ code: 'invalid_topic' });
  });

  it('setTopic sends messages queued for the default topic first', async () => {
    const c = open({ batch: { lingerMs: 60_000 } });
    const before = c.send('before');
    await c.setTopic('next-topic');
    await expect(before).resolves.toMatchObject({ topic: 'default-topic' });
    expect(setup.fake.accepted[0]!.topic).toBe('default-topic');
  });

  it('setTopic waits for default-topic batches already in flight', async () => {
    setup.fake.delayMs = 300;
    const c = open({ batch: { lingerMs: 0 } });
    const before = c.send('in flight');
    await new Promise((r) => setTimeout(r, 50));
    await c.setTopic('next-topic');
    await expect(before).resolves.toMatchObject({ topic: 'default-topic' });
    const produce = setup.fake.requests.find((r) => r.path === '/')!;
    const change = setup.fake.requests.find((r) => r.path === '/topic/next-topic')!;
    expect(change.at - produce.at).toBeGreaterThanOrEqual(290);
  });

  it('health reports liveness and readiness with the reason', async () => {
    const c = open();
    expect(await c.health()).toEqual({ live: true, ready: true });
    setup.fake.ready = false;
    expect(await c.health()).toEqual({
      live: true,
      ready: false,
      reason: '503 kafka_unavailable: Kafka is not reachable; retry later',
    });
  });

  it('gzips request bodies when asked', async () => {
    const c = open({ compression: 'gzip' });
    const text = 'compress me '.repeat(200);
    await c.send(text, { topic: 'z' });
    const req = setup.fake.accepted[0]!;
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(req.bodyBytes).toBeLessThan(text.length / 4);
    expect(acceptedTexts(setup.fake)).toEqual([text]);
  });

  it('asks for buffered acknowledgement when configured', async () => {
    const c = open({ ack: 'buffered' });
    await c.send('x');
    expect(setup.fake.accepted[0]!.headers['x-kafka-proxy-ack']).toBe('buffered');
  });

  it('reports sent batches to hooks and survives a throwing hook', async () => {
    const events: BatchSentEvent[] = [];
    const c = open({
      hooks: {
        onBatchSent: (e) => {
          events.push(e);
          throw new Error('broken metrics');
        },
      },
    });
    await Promise.all([c.send('ab', { topic: 'h' }), c.send('cde', { topic: 'h' })]);
    expect(events).toMatchObject([
      { topic: 'h', messages: 2, bytes: 4 + 2 + 4 + 3, status: 200, attempts: 1 },
    ]);
  });
});
