// Clients of the fake proxy whose produce requests wait at a gate until the test lets them go,
// and a driver that lets them go one at a time.
import { afterEach } from 'vitest';
import type { KafkaProxyClient } from '../src/client.js';
import type { KafkaProxyClientOptions } from '../src/options.js';
import type { FakeProxySetup } from './fake-proxy-client.js';
import { openGate, type Gate } from './gate.js';

/** Registers the gate's cleanup and returns `openGated`, for a test file using `setup`. */
export function useGatedClient(
  setup: FakeProxySetup,
): (
  extra: Partial<KafkaProxyClientOptions>,
  onHold?: (c: KafkaProxyClient) => void,
) => { c: KafkaProxyClient; gate: Gate } {
  let gate: Gate | undefined;
  afterEach(async () => {
    await gate?.close();
    gate = undefined;
  });
  return (extra, onHold) => {
    const ref: { client?: KafkaProxyClient } = {};
    const opened = openGate(() => ref.client && onHold?.(ref.client));
    gate = opened;
    ref.client = setup.open({ dispatcher: opened.dispatcher, ...extra });
    return { c: ref.client, gate: opened };
  };
}

/** Releases held requests one at a time until `until` settles. */
export async function drive(g: Gate, until: Promise<unknown>): Promise<void> {
  let settled = false;
  const done = until.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  while (!settled) {
    await Promise.race([g.waitForHeld(), done]);
    g.releaseOne();
  }
}
