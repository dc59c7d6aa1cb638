/**
 * vitest `globalSetup` for integration projects: gives the run a real Kafka broker.
 *
 * When `KAFKA_BROKERS` is set (scripts/test.sh starts one broker for all workspaces) that broker
 * is used as is. Otherwise this starts one with `scripts/kafka.sh up --name vitest-<pid>` and
 * stops it when the run ends (and kafka.sh's watchdog stops it if this process dies first).
 * Tests get the brokers with `kafkaBrokers()` from `@kproxy/testkit`, which reads
 * `inject('kafkaBrokers')`; `process.env.KAFKA_BROKERS` is set as well, for code under test.
 *
 * @example
 * // vitest.config.ts
 * { test: { name: 'integration', globalSetup: ['@kproxy/testkit/global-setup'] } }
 */
import type { TestProject } from 'vitest/node';
import { parseBrokers, runKafkaScript } from './kafka-script.js';
import './provided-context.js';

export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given) {
    project.provide('kafkaBrokers', given);
    return undefined;
  }
  const name = `vitest-${process.pid}`;
  const stdout = await runKafkaScript(['up', '--name', name, '--owner-pid', String(process.pid)], {
    inheritStderr: true,
  });
  const brokers = parseBrokers(stdout).join(',');
  process.env.KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  return async () => {
    delete process.env.KAFKA_BROKERS;
    await runKafkaScript(['down', '--name', name], { inheritStderr: true });
  };
}
