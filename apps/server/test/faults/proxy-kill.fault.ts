// The proxy SIGKILLed again and again while durable requests are in flight, and started again on
// the same port each time: every message answered 200 is in Kafka and no request is partly
// written (a request cut by the kill is written whole or not at all).
import { describe, expect, it } from 'vitest';
import { FaultScenario, failures, waitFor } from './lib.js';

const KILLS = 5;
const scenario = new FaultScenario(1);

describe('the proxy SIGKILLed under durable load', () => {
  it(`keeps every 200-acknowledged message over ${KILLS} kills and writes no request in part`, async () => {
    let proxy = await scenario.begin('faults-proxy-kill', { partitions: 3 });
    const load = scenario.load({ durable: 8 });
    const events: string[] = [];
    const acknowledged = async (more: number): Promise<void> => {
      const target = load.answered(200) + more;
      await waitFor('requests acknowledged', () => load.answered(200) >= target, 60_000, 20);
    };
    for (let i = 0; i < KILLS; i++) {
      await acknowledged(150);
      const code = await proxy.stop('SIGKILL');
      events.push(`killed at ${load.elapsed()} ms`);
      expect(code).toBeNull();
      proxy = await scenario.startProxy();
    }
    await acknowledged(150);

    const { counts, exit } = await scenario.finish(`proxy SIGKILL x${KILLS}`, load, events);
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
