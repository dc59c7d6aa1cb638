// The proxy SIGKILLed again and again while durable requests are in flight, and started again on
// the same port each time: every message answered 200 is in Kafka and no request is partly
// written (a request cut by the kill is written whole or not at all).
import { createTopic, uniqueTopic } from '@kproxy/testkit';
import type { ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failures,
  faultCluster,
  freePort,
  settleCounts,
  startFaultProxy,
  startLoad,
  report,
  waitFor,
  waitReady,
  type FaultCluster,
} from './lib.js';

const KILLS = 5;
let cluster: FaultCluster;
let proxy: ServerProcess | undefined;

beforeAll(async () => {
  cluster = await faultCluster(1);
});

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await cluster?.release();
});

describe('the proxy SIGKILLed under durable load', () => {
  it(`keeps every 200-acknowledged message over ${KILLS} kills and writes no request in part`, async () => {
    const startedAt = Date.now();
    const brokers = cluster.brokers;
    const topic = await createTopic(uniqueTopic('faults-proxy-kill'), { partitions: 3, brokers });
    const port = await freePort();
    proxy = await startFaultProxy(brokers, topic, port);
    await waitReady(proxy.url);
    const load = startLoad({ url: proxy.url, clients: { durable: 8 }, messagesPerRequest: 20 });
    const events: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      const target = load.answered(200) + 150;
      await waitFor('requests acknowledged', () => load.answered(200) >= target, 60_000, 20);
      const code = await proxy.stop('SIGKILL');
      events.push(`killed at ${load.elapsed()} ms`);
      expect(code).toBeNull();
      proxy = await startFaultProxy(brokers, topic, port);
    }
    const target = load.answered(200) + 150;
    await waitFor('requests acknowledged', () => load.answered(200) >= target, 60_000, 20);
    await load.stop();
    const exit = await proxy.stop('SIGTERM');

    const counts = await settleCounts(load, topic, brokers);
    report(`proxy SIGKILL x${KILLS}`, { counts, startedAt, events, logs: proxy.logs, exit });
    expect(counts.acknowledgedDurable).toBeGreaterThan(5_000);
    expect(counts.unanswered).toBeGreaterThan(0); // the kills did cut requests in flight
    expect({ exit, ...failures(counts) }).toEqual({
      exit: 0,
      missing: 0,
      partial: 0,
      fiveXxWritten: 0,
    });
  });
});
