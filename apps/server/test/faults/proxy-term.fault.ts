// The proxy stopped with SIGTERM again and again under buffered and durable load, and started
// again on the same port each time: each graceful shutdown exits 0 having written every request
// it answered 202 and logs no error (such as requests dropped at its deadline); over the whole
// run every acknowledged message is in Kafka, none partly written, none answered 5xx written.
import { createTopic, uniqueTopic } from '@kproxy/testkit';
import type { ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failures,
  logLines,
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

const TERMS = 5;

let cluster: FaultCluster;
let proxy: ServerProcess | undefined;

beforeAll(async () => {
  cluster = await faultCluster(1);
});

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await cluster?.release();
});

describe('the proxy stopped with SIGTERM under buffered and durable load', () => {
  it(`delivers every acknowledged message over ${TERMS} graceful shutdowns`, async () => {
    const startedAt = Date.now();
    const brokers = cluster.brokers;
    const topic = await createTopic(uniqueTopic('faults-proxy-term'), { partitions: 3, brokers });
    const port = await freePort();
    proxy = await startFaultProxy(brokers, topic, port);
    await waitReady(proxy.url);
    const load = startLoad({
      url: proxy.url,
      clients: { durable: 4, buffered: 4 },
      messagesPerRequest: 20,
    });
    const acked = () => load.answered(200) + load.answered(202);
    const logs: string[] = [];
    const shutdowns: string[] = [];
    const failedShutdowns: string[] = [];
    const terminate = async (running: ServerProcess): Promise<void> => {
      const signalledAt = Date.now();
      const code = await running.stop('SIGTERM');
      shutdowns.push(`exit ${code} in ${Date.now() - signalledAt} ms`);
      logs.push(...running.logs);
      if (code !== 0) failedShutdowns.push(`exit ${code}`);
    };
    for (let i = 0; i < TERMS; i++) {
      const target = acked() + 200;
      await waitFor('requests acknowledged', () => acked() >= target, 60_000, 20);
      await terminate(proxy);
      proxy = await startFaultProxy(brokers, topic, port);
    }
    const target = acked() + 200;
    await waitFor('requests acknowledged', () => acked() >= target, 60_000, 20);
    await load.stop();
    await terminate(proxy);

    const counts = await settleCounts(load, topic, brokers);
    const exit = failedShutdowns.length === 0 ? 0 : 1;
    report(`proxy SIGTERM x${TERMS}`, { counts, startedAt, events: shutdowns, logs, exit });
    expect(counts.acknowledgedDurable).toBeGreaterThan(1_000);
    expect(counts.acknowledgedBuffered).toBeGreaterThan(1_000);
    expect({
      failedShutdowns,
      errorsLogged: logLines(logs).length,
      ...failures(counts),
    }).toEqual({
      failedShutdowns: [],
      errorsLogged: 0,
      missing: 0,
      partial: 0,
      fiveXxWritten: 0,
    });
  });
});
