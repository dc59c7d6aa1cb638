#!/usr/bin/env -S node --max-semi-space-size=8 --no-allocation-site-pretenuring
// The kafka-proxy entry point: wiring only. The `#!` line caps V8's young generation (Node 24
// grows it to 3 x 64 MiB under a high allocation rate): 8 MiB semi-spaces keep a loaded proxy's
// peak RSS near 150 MB, 16 MiB about 25 MB higher for about 10 % less CPU per message, the
// default about 150 MB higher (apps/server/bench/README.md, "Memory"). It also keeps V8 from
// allocating short-lived request objects straight into the old generation: under a steady load
// it otherwise did so in most runs, with a mark-compact a second, twice the p99 and 65 MB more
// RSS (bench/steady.mjs; README "Settings from it"). Launchers that run `node dist/main.js` read
// these options from this line (@kproxy/testkit entryNodeOptions).
// Exit codes: 0 clean shutdown, 1 failure or a shutdown that ran out of time, 2 invalid
// configuration, 3 cannot listen (port in use, privileged port, foreign address), 130 forced by a
// second signal.
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { ConfigError, loadConfig, usage, wantsHelp, wantsVersion } from './config.js';
import { createKafkaProducer, kafkaClientOptions } from './kafka-producer.js';
import { KafkaTopicStore } from './kafka-topic-store.js';
import { createLogger } from './logger.js';
import { ListenError, startServer } from './server.js';
import { FileTopicStore, TopicStoreError } from './topic-store.js';
import { serverVersion } from './version.js';

/** Every start-up failure's exit code and what is said about it, in one place. */
function failedToStart(error: unknown, logger: Logger | undefined): never {
  if (
    error instanceof ConfigError ||
    (error instanceof TopicStoreError && error.code === 'no_default_topic')
  ) {
    process.stderr.write(`kafka-proxy: ${error.message}\n`);
    process.exit(2);
  }
  // Before the logger exists only the configuration can fail; anything else is a bug to show.
  if (logger === undefined) throw error;
  if (error instanceof ListenError) {
    // One line that says what to change; a stack trace would bury it.
    logger.fatal({ code: error.code }, error.message);
    process.exit(3);
  }
  logger.fatal({ err: error }, 'could not start');
  process.exit(1);
}

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  process.stdout.write(usage());
  process.exit(0);
}
if (wantsVersion(argv)) {
  process.stdout.write(`kafka-proxy ${serverVersion()}\n`);
  process.exit(0);
}
let config;
try {
  config = loadConfig(process.env, argv);
} catch (error) {
  failedToStart(error, undefined);
}
const logger = createLogger(config.logLevel);
for (const warning of config.warnings) logger.warn(warning);
if (config.generatedToken !== undefined) {
  // Development only: the operator needs the token to send anything.
  process.stderr.write(`kafka-proxy: development token: ${config.generatedToken}\n`);
}

try {
  const kafkaOptions = { kafka: config.kafka, logger, requestTimeoutMs: config.ackTimeoutMs };
  // The cache file is the whole store for one replica, and the seed of the shared one.
  const fileStore = new FileTopicStore(config.topic);
  await fileStore.start();
  const topicStore =
    config.topic.store === 'kafka'
      ? new KafkaTopicStore({
          kafka: kafkaClientOptions(kafkaOptions),
          logger: logger.child({ component: 'topic-store' }),
          seedTopic: fileStore.current(),
          force: config.topic.force,
          storeTopic: config.topic.storeTopic,
          cache: fileStore,
          setTimeoutMs: config.ackTimeoutMs,
        })
      : fileStore;
  if (topicStore !== fileStore) await topicStore.start();
  const producer = createKafkaProducer(kafkaOptions);
  await producer.connect();
  const proxy = createApp({ config, producer, topicStore, logger });
  const server = await startServer({ proxy, config, logger, producer, topicStore });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      server.forceClose();
      process.exit(130);
    }
    logger.info({ signal }, 'signal received');
    const timer = setTimeout(() => {
      // What a hard exit now loses, so an operator knows exactly what to resend.
      const unsent = proxy.flusher.unsent();
      logger.error(
        { timeoutMs: config.shutdownTimeoutMs, unsent },
        unsent.requests === 0
          ? 'shutdown timed out'
          : `shutdown timed out: ${unsent.messages} messages of ${unsent.requests} requests were not written to Kafka and are dropped`,
      );
      server.forceClose();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    server.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
} catch (error) {
  failedToStart(error, logger);
}
