// A one-node Kafka stopped for about nine seconds and started again under buffered and durable
// load: every request answered 200 or 202 is in Kafka once the broker is back, none is partly
// written, and none answered 5xx was written.
import { describe, expect, it } from 'vitest';
import { FaultScenario, failures, sleep, waitFor } from './lib.js';

const DOWN_MS = 9_000;
const scenario = new FaultScenario(1);

describe('a one-node Kafka restarted under buffered and durable load', () => {
  it('delivers every acknowledged message once the broker is back', async () => {
    const { cluster } = scenario;
    await scenario.begin('faults-broker-restart', { partitions: 3 });
    const load = scenario.load({ durable: 8, buffered: 2 });
    await waitFor(
      'load under way',
      () => load.answered(200) >= 50 && load.answered(202) >= 50,
      30_000,
    );

    const events = [`stopping the broker at ${load.elapsed()} ms`];
    await cluster.stopNode(1);
    const stoppedAt = Date.now();
    events.push(`stopped at ${load.elapsed()} ms`);
    await waitFor(
      'readiness reports the outage',
      async () => {
        const res = await fetch(`${scenario.url}/readyz`);
        await res.body?.cancel();
        return res.status === 503;
      },
      20_000,
    );
    await sleep(Math.max(0, stoppedAt + DOWN_MS - Date.now()));
    events.push(`starting it at ${load.elapsed()} ms`);
    await cluster.startNode(1);
    events.push(`started at ${load.elapsed()} ms`);
    const before = load.answered(200);
    await waitFor('durable requests acknowledged', () => load.answered(200) >= before + 50, 60_000);
    events.push(`50 more durable 200s by ${load.elapsed()} ms`);

    const { counts, exit } = await scenario.finish('broker restart (1 node)', load, events);
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
