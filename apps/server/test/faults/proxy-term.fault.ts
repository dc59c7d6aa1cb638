// The proxy stopped with SIGTERM again and again under buffered and durable load, and started
// again on the same port each time: each graceful shutdown exits 0 having written every request
// it answered 202 and logs no error (such as requests dropped at its deadline); over the whole
// run every acknowledged message is in Kafka, none partly written, none answered 5xx written.
import { describe, expect, it } from 'vitest';
import { FaultScenario, failures, logLines, waitFor } from './lib.js';

const TERMS = 5;
const scenario = new FaultScenario(1);

describe('the proxy stopped with SIGTERM under buffered and durable load', () => {
  it(`delivers every acknowledged message over ${TERMS} graceful shutdowns`, async () => {
    let proxy = await scenario.begin('faults-proxy-term', { partitions: 3 });
    const load = scenario.load({ durable: 4, buffered: 4 });
    const events: string[] = [];
    const exits: (number | null)[] = [];
    const errors: string[] = [];
    for (let i = 0; i < TERMS; i++) {
      const target = load.answered(200) + load.answered(202) + 200;
      await waitFor(
        'requests acknowledged',
        () => load.answered(200) + load.answered(202) >= target,
        60_000,
        20,
      );
      const signalledAt = Date.now();
      const code = await proxy.stop('SIGTERM');
      events.push(`exit ${code} in ${Date.now() - signalledAt} ms`);
      exits.push(code);
      errors.push(...logLines(proxy.logs));
      proxy = await scenario.startProxy();
    }
    const target = load.answered(200) + 200;
    await waitFor('durable requests acknowledged', () => load.answered(200) >= target, 60_000, 20);

    const { counts, exit } = await scenario.finish(`proxy SIGTERM x${TERMS}`, load, events);
    errors.push(...logLines(scenario.proxy?.logs ?? []));
    if (errors.length > 0) console.log(`[faults] logged by the proxy:\n${errors.join('\n')}`);
    expect(counts.acknowledgedDurable).toBeGreaterThan(1_000);
    expect(counts.acknowledgedBuffered).toBeGreaterThan(1_000);
    expect({ exits: [...exits, exit], errors: errors.length, ...failures(counts) }).toEqual({
      exits: Array.from({ length: TERMS + 1 }, () => 0),
      errors: 0,
      missing: 0,
      partial: 0,
      fiveXxWritten: 0,
    });
  });
});
