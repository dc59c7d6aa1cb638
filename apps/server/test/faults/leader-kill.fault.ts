// Three nodes, a topic replicated three times with min.insync.replicas=2: the leader of one of
// its partitions is SIGKILLed under buffered and durable load, stays down a few seconds and is
// started again; then the same with a partition led by the first bootstrap broker. Every request answered 200 or 202 is in Kafka, none is partly written, none
// answered 5xx was written, and durable requests are acknowledged again after the restart.
import { describe, expect, it } from 'vitest';
import { FaultScenario, failures, leaderOf, partitionLedBy, sleep, waitFor } from './lib.js';

const DOWN_MS = 4_000;
const scenario = new FaultScenario(3);

describe('a partition leader SIGKILLed on three nodes under buffered and durable load', () => {
  it('delivers every acknowledged message and writes nothing it answered 5xx', async () => {
    const { cluster, brokers } = scenario;
    await scenario.begin('faults-leader-kill', {
      partitions: 6,
      replicationFactor: 3,
      config: { 'min.insync.replicas': '2' },
    });
    const { topic } = scenario;
    const load = scenario.load({ durable: 4, buffered: 4 });
    await waitFor(
      'load under way',
      () => load.answered(200) >= 100 && load.answered(202) >= 100,
      30_000,
    );

    // Two kills: the leader of a partition on another node than the first bootstrap broker,
    // then the leader of a partition on the first bootstrap broker (node 1), which the proxy
    // learnt the cluster from.
    const events: string[] = [];
    const served: boolean[] = [];
    for (const onBootstrap of [false, true]) {
      const partition = await partitionLedBy(
        brokers,
        topic,
        (node) => (node === 1) === onBootstrap,
      );
      const leader = await leaderOf(brokers, topic, partition);
      events.push(
        `killing node ${leader} (leader of partition ${partition}) at ${load.elapsed()} ms`,
      );
      await cluster.stopNode(leader, { kill: true });
      const killedAt = Date.now();
      await waitFor(
        `a new leader for partition ${partition}`,
        async () => (await leaderOf(brokers, topic, partition).catch(() => leader)) !== leader,
        30_000,
        200,
      );
      events.push(`partition ${partition} has a new leader at ${load.elapsed()} ms`);
      await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));
      await cluster.startNode(leader);
      events.push(`node ${leader} back at ${load.elapsed()} ms`);
      // Durable answers prove delivery goes on (buffered 202s only that requests are queued).
      const before = load.answered(200);
      const servedAgain = await waitFor(
        'durable requests acknowledged',
        () => load.answered(200) >= before + 50,
        30_000,
      ).then(
        () => true,
        () => false,
      );
      served.push(servedAgain);
      if (servedAgain) {
        events.push(`50 more durable 200s by ${load.elapsed()} ms`);
        continue;
      }
      const ready = await fetch(`${scenario.url}/readyz`).then((res) => res.status);
      events.push(
        `${load.answered(200) - before} durable 200s within 30 s after the restart ` +
          `(GET /readyz ${ready}), ${load.answered(202)} buffered 202s so far`,
      );
      break;
    }
    const servedAgain = served.every(Boolean);

    const { counts, exit } = await scenario.finish('leader SIGKILL (3 nodes)', load, events, {
      retry: servedAgain,
    });
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
