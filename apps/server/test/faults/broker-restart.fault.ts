// A one-node Kafka stopped for about nine seconds and started again under buffered and durable
// load: every request answered 200 or 202 is in Kafka once the broker is back, none is partly
// written, and none answered 5xx was written.
import { createTopic, uniqueTopic } from '@kproxy/testkit';
import type { ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failures,
  faultCluster,
  freePort,
  settleCounts,
  sleep,
  startFaultProxy,
  startLoad,
  report,
  waitFor,
  waitReady,
  type FaultCluster,
} from './lib.js';

const DOWN_MS = 9_000;
let cluster: FaultCluster;
let proxy: ServerProcess | undefined;

beforeAll(async () => {
  cluster = await faultCluster(1);
});

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await cluster?.release();
});

describe('a one-node Kafka restarted under buffered and durable load', () => {
  it('delivers every acknowledged message once the broker is back', async () => {
    const startedAt = Date.now();
    const brokers = cluster.brokers;
    const topic = await createTopic(uniqueTopic('faults-broker-restart'), {
      partitions: 3,
      brokers,
    });
    proxy = await startFaultProxy(brokers, topic, await freePort());
    await waitReady(proxy.url);
    const load = startLoad({
      url: proxy.url,
      clients: { durable: 8, buffered: 2 },
      messagesPerRequest: 20,
    });
    await waitFor(
      'load under way',
      () => load.answered(200) >= 50 && load.answered(202) >= 50,
      30_000,
    );

    const events = [`stopping the broker at ${load.elapsed()} ms`];
    await cluster.stopNode(1);
    const stoppedAt = Date.now();
    events.push(`stopped at ${load.elapsed()} ms`);
    const url = proxy.url;
    await waitFor(
      'readiness reports the outage',
      async () => {
        const res = await fetch(`${url}/readyz`);
        await res.body?.cancel();
        return res.status === 503;
      },
      20_000,
    );
    await sleep(Math.max(0, stoppedAt + DOWN_MS - Date.now()));
    events.push(`starting it at ${load.elapsed()} ms`);
    await cluster.startNode(1);
    events.push(`started at ${load.elapsed()} ms`);
    await waitReady(proxy.url);
    events.push(`proxy ready at ${load.elapsed()} ms`);
    const before = load.answered(200) + load.answered(202);
    await waitFor(
      'load served again',
      () => load.answered(200) + load.answered(202) >= before + 200,
      60_000,
    );
    await load.stop();
    const exit = await proxy.stop('SIGTERM');

    const counts = await settleCounts(load, topic, brokers);
    report('broker restart (1 node)', { counts, startedAt, events, logs: proxy.logs, exit });
    expect(counts.acknowledgedDurable).toBeGreaterThan(1_000);
    expect(counts.acknowledgedBuffered).toBeGreaterThan(1_000);
    expect({ exit, ...failures(counts) }).toEqual({
      exit: 0,
      missing: 0,
      partial: 0,
      fiveXxWritten: 0,
    });
  });
});
