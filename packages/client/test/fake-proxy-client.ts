// The fixture the client's unit tests share: a fresh fake proxy for each test, and clients on it
// that are closed after the test.
import { startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { afterEach, beforeEach } from 'vitest';
import { KafkaProxyClient } from '../src/client.js';
import type { KafkaProxyClientOptions } from '../src/options.js';

export interface FakeProxySetup {
  /** This test's fake proxy. A test that replaces it (a restart) assigns the new one here. */
  fake: FakeProxy;
  /** A client of the fake proxy (token `secret`); the last one opened is closed after the test. */
  open: (extra?: Partial<KafkaProxyClientOptions>) => KafkaProxyClient;
}

/** Registers the hooks (call it at the top of a test file) and returns the current test's setup. */
export function useFakeProxy(): FakeProxySetup {
  let fake: FakeProxy | undefined;
  let client: KafkaProxyClient | undefined;
  beforeEach(async () => {
    fake = await startFakeProxy();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await fake?.close();
  });
  const setup: FakeProxySetup = {
    get fake() {
      if (fake === undefined) throw new Error('the fake proxy exists only while a test runs');
      return fake;
    },
    set fake(next) {
      fake = next;
    },
    open: (extra = {}) =>
      (client = new KafkaProxyClient({ url: setup.fake.url, token: 'secret', ...extra })),
  };
  return setup;
}
