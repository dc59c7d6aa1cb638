// Three nodes, a topic replicated three times with min.insync.replicas=2: the leader of one of
// its partitions is SIGKILLed under buffered and durable load, stays down a few seconds and is
// started again. Every request answered 200 or 202 is in Kafka, none is partly written, and none
// answered 5xx was written.
import { createTopic, uniqueTopic } from '@kproxy/testkit';
import type { ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failures,
  faultCluster,
  freePort,
  leaderOf,
  settleCounts,
  sleep,
  startFaultProxy,
  startLoad,
  report,
  waitFor,
  waitReady,
  type FaultCluster,
} from './lib.js';

const DOWN_MS = 4_000;
let cluster: FaultCluster;
let proxy: ServerProcess | undefined;

beforeAll(async () => {
  cluster = await faultCluster(3);
});

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await cluster?.release();
});

describe('a partition leader SIGKILLed on three nodes under buffered and durable load', () => {
  it('delivers every acknowledged message and writes nothing it answered 5xx', async () => {
    const startedAt = Date.now();
    const brokers = cluster.brokers;
    const topic = await createTopic(uniqueTopic('faults-leader-kill'), {
      partitions: 6,
      replicationFactor: 3,
      config: { 'min.insync.replicas': '2' },
      brokers,
    });
    proxy = await startFaultProxy(brokers, topic, await freePort());
    await waitReady(proxy.url);
    const load = startLoad({
      url: proxy.url,
      clients: { durable: 4, buffered: 4 },
      messagesPerRequest: 20,
    });
    await waitFor(
      'load under way',
      () => load.answered(200) >= 100 && load.answered(202) >= 100,
      30_000,
    );

    const leader = await leaderOf(brokers, topic, 0);
    const events = [`killing node ${leader} (leader of partition 0) at ${load.elapsed()} ms`];
    await cluster.stopNode(leader, { kill: true });
    const killedAt = Date.now();
    await waitFor(
      'a new leader for partition 0',
      async () => (await leaderOf(brokers, topic, 0).catch(() => leader)) !== leader,
      30_000,
      200,
    );
    events.push(`partition 0 has a new leader at ${load.elapsed()} ms`);
    await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));
    await cluster.startNode(leader);
    events.push(`node ${leader} back at ${load.elapsed()} ms`);
    // Durable answers prove delivery goes on (buffered 202s only that requests are queued).
    const before = load.answered(200);
    const servedAgain = await waitFor(
      'durable requests acknowledged',
      () => load.answered(200) >= before + 50,
      60_000,
    ).then(
      () => true,
      () => false,
    );
    events.push(
      servedAgain
        ? `50 more durable 200s by ${load.elapsed()} ms`
        : `no 50 more durable 200s within 60 s after the restart (${load.answered(200) - before})`,
    );
    await load.stop({ retry: servedAgain });
    const exit = await proxy.stop('SIGTERM');

    const counts = await settleCounts(load, topic, brokers);
    report('leader SIGKILL (3 nodes)', { counts, startedAt, events, logs: proxy.logs, exit });
    expect(counts.acknowledgedDurable).toBeGreaterThan(1_000);
    expect(counts.acknowledgedBuffered).toBeGreaterThan(1_000);
    expect({ servedAgain, exit, ...failures(counts) }).toEqual({
      servedAgain: true,
      exit: 0,
      missing: 0,
      partial: 0,
      fiveXxWritten: 0,
    });
  });
});
