// Shared by the fault scenarios: the clusters, the real proxy process, concurrent HTTP clients
// whose every message says which request and which attempt carried it, and the read-back that
// turns what Kafka holds into the counts the scenarios assert.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { encodeFrames } from '@kproxy/framing';
import {
  createTopic,
  kafka,
  runKafkaScript,
  startCluster,
  uniqueTopic,
  type CreateTopicOptions,
} from '@kproxy/testkit';
import { spawnServer, type ServerProcess } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll } from 'vitest';
import { readAll } from '../kafka.js';

export const TOKEN = 'faults-token-2c9e71';

/** A Kafka cluster the scenarios may stop and start nodes of. */
export interface FaultCluster {
  name: string;
  brokers: string[];
  stopNode(id: number, options?: { kill?: boolean }): Promise<void>;
  startNode(id: number): Promise<void>;
  /** Stops the cluster if this process started it; one given by the environment is left alone. */
  release(): Promise<void>;
}

/**
 * The cluster of `nodes` nodes the suite's script started (KPROXY_FAULTS_CLUSTER_<nodes> = its
 * kafka.sh name, KPROXY_FAULTS_BROKERS_<nodes> = its brokers), or a new one when the test file
 * runs on its own.
 */
export async function faultCluster(nodes: 1 | 3): Promise<FaultCluster> {
  const name = process.env[`KPROXY_FAULTS_CLUSTER_${nodes}`];
  const brokers = process.env[`KPROXY_FAULTS_BROKERS_${nodes}`];
  if (name && brokers) {
    return {
      name,
      brokers: brokers.split(','),
      async stopNode(id, options = {}) {
        const kill = options.kill ? ['--kill'] : [];
        await runKafkaScript(['stop-node', String(id), ...kill, '--name', name]);
      },
      async startNode(id) {
        await runKafkaScript(['start-node', String(id), '--name', name]);
      },
      async release() {},
    };
  }
  const cluster = await startCluster({ nodes });
  return { ...cluster, release: () => cluster.stop() };
}

/** A TCP port free now, so a restarted proxy can listen where its clients already connect. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The built proxy, started from its entry point with defaults but for the Kafka and topic. */
export async function startFaultProxy(
  brokers: string[],
  topic: string,
  port: number,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  return spawnServer({
    KAFKA_PROXY_TOKEN: TOKEN,
    KAFKA_PROXY_KAFKA_SERVER: brokers.join(','),
    KAFKA_PROXY_TOPIC: topic,
    KAFKA_PROXY_PORT: String(port),
    LOG_LEVEL: 'info',
    ...env,
  });
}

/** The lines the server logged at `levels` (a shutdown that timed out names what it dropped). */
export function logLines(
  logs: readonly string[],
  levels: readonly string[] = ['error', 'fatal'],
): string[] {
  return logs.filter((line) => {
    try {
      return levels.includes((JSON.parse(line) as { level?: string }).level ?? '');
    } catch {
      return false; // not a log line
    }
  });
}

/** Resolves once `GET /readyz` answers 200; rejects after `timeoutMs`. */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Polls `check` every `intervalMs` until it is true; rejects after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each partition of `topic` and the node that leads it now (-1: none). */
export async function partitionLeaders(
  brokers: string[],
  topic: string,
): Promise<Map<number, number>> {
  const admin = kafka({ brokers }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(topics[0]?.partitions.map((p) => [p.partitionId, p.leader]) ?? []);
  } finally {
    await admin.disconnect();
  }
}

/** The node that leads `partition` of `topic` now. */
export async function leaderOf(
  brokers: string[],
  topic: string,
  partition: number,
): Promise<number> {
  const leader = (await partitionLeaders(brokers, topic)).get(partition);
  if (leader === undefined || leader < 0) throw new Error(`${topic}/${partition} has no leader`);
  return leader;
}

/** A partition of `topic` whose leader passes `wanted`. */
export async function partitionLedBy(
  brokers: string[],
  topic: string,
  wanted: (node: number) => boolean,
): Promise<number> {
  for (const [partition, leader] of await partitionLeaders(brokers, topic)) {
    if (leader >= 0 && wanted(leader)) return partition;
  }
  throw new Error(`no partition of ${topic} has a leader as wanted`);
}

export type Mode = 'durable' | 'buffered';

/** One HTTP attempt of a request: `status` 0 when no answer came (connection refused or reset). */
export interface Attempt {
  request: string;
  attempt: number;
  mode: Mode;
  messages: number;
  status: number;
  /** The error code of a JSON error answer. */
  error?: string;
  /** When it was sent and answered, ms after the load started. */
  sentMs: number;
  answeredMs?: number;
}

export interface LoadOptions {
  url: string;
  /** Concurrent clients of each mode. */
  clients: Partial<Record<Mode, number>>;
  messagesPerRequest: number;
  /** Give up on a request (its last attempt stays unanswered or 5xx) after this long. */
  retryBudgetMs?: number;
}

/** Concurrent clients sending until `stop()`; `stop` resolves once every request has ended. */
export interface Load {
  run: string;
  attempts: Attempt[];
  /** Milliseconds since the load started (the clock of `Attempt.sentMs`). */
  elapsed(): number;
  /** Requests answered so far with status (any attempt). */
  answered(status: number): number;
  /** `retry: false`: requests waiting to be retried are given up instead. */
  stop(options?: { retry?: boolean }): Promise<void>;
}

/**
 * Starts concurrent clients that POST framed requests back to back. Every message is
 * `run/request/attempt/index` plus padding, so the read-back can tell which request and which
 * attempt of it wrote each record. A request is retried, as the SDK does, on no answer, 429 and
 * 503 (honouring Retry-After), until it is answered otherwise or the retry budget is spent.
 */
export function startLoad(options: LoadOptions): Load {
  const run = randomUUID().slice(0, 8);
  const attempts: Attempt[] = [];
  const budget = options.retryBudgetMs ?? 60_000;
  let stopping = false;
  let retrying = true;
  let requests = 0;
  const startedAt = Date.now();
  const elapsed = (): number => Date.now() - startedAt;

  /** One attempt; resolves to its answer's Retry-After in seconds (0 when none). */
  const send = async (
    mode: Mode,
    request: string,
    attempt: number,
  ): Promise<Attempt & { retryAfter: number }> => {
    const n = options.messagesPerRequest;
    const body = encodeFrames(
      Array.from({ length: n }, (_, i) =>
        Buffer.from(`${run}/${request}/${attempt}/${i}/`.padEnd(100, 'x')),
      ),
    );
    const record: Attempt = { request, attempt, mode, messages: n, status: 0, sentMs: elapsed() };
    attempts.push(record);
    try {
      const res = await fetch(`${options.url}/`, {
        method: 'POST',
        headers: {
          'x-kafka-proxy-token': TOKEN,
          'content-type': 'application/octet-stream',
          'x-kafka-proxy-ack': mode,
        },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      record.status = res.status;
      const retryAfter = Number(res.headers.get('retry-after') ?? '0') || 0;
      const text = await res.text();
      record.answeredMs = elapsed();
      if (res.status >= 400) record.error = errorCode(text);
      return { ...record, retryAfter };
    } catch {
      // no answer, or the body of one was cut: the status (if any) is what the client saw
      return { ...record, retryAfter: 0 };
    }
  };

  const client = async (mode: Mode): Promise<void> => {
    while (!stopping) {
      const request = `${mode[0]}${requests++}`;
      const started = Date.now();
      for (let attempt = 0, backoff = 50; ; attempt++) {
        const sent = await send(mode, request, attempt);
        const retriable = sent.status === 0 || sent.status === 429 || sent.status === 503;
        if (!retriable || !retrying || Date.now() - started > budget) break;
        const wait = sent.retryAfter > 0 ? sent.retryAfter * 1000 : Math.random() * backoff;
        backoff = Math.min(backoff * 2, 1_000);
        await sleep(wait);
        if (!retrying) break;
      }
    }
  };

  const clients: Promise<void>[] = [];
  for (const [mode, count] of Object.entries(options.clients) as [Mode, number][]) {
    for (let i = 0; i < count; i++) clients.push(client(mode));
  }
  return {
    run,
    attempts,
    elapsed,
    answered: (status) => attempts.filter((a) => a.status === status).length,
    async stop({ retry = true } = {}) {
      stopping = true;
      retrying = retry;
      await Promise.all(clients);
    },
  };
}

function errorCode(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text.slice(0, 80);
  } catch {
    return text.slice(0, 80);
  }
}

/** What Kafka holds against what the clients were told. */
export interface Counts {
  requests: number;
  attempts: number;
  /** Messages of attempts answered 200 (durable) or 202 (buffered). */
  acknowledged: number;
  acknowledgedDurable: number;
  acknowledgedBuffered: number;
  /** Acknowledged messages not in Kafka. */
  missing: number;
  /** Attempts some but not all of whose messages are in Kafka. */
  partial: number;
  /** Attempts answered 5xx of which messages are in Kafka. */
  fiveXxWritten: number;
  /** The first few of them, for the report. */
  fiveXxWrittenExamples: Attempt[];
  /** Attempts answered 5xx (the client retried them or gave up). */
  fiveXx: number;
  /** Attempts without an answer (connection refused or reset), and those of them written. */
  unanswered: number;
  unansweredWritten: number;
  /** Requests whose last attempt was not acknowledged (the client gave up). */
  givenUp: number;
  /** Records read beyond the first of each request's message (a retry that wrote it again). */
  duplicates: number;
  /** Of those, records of an attempt written more than once (Kafka's client sent it twice). */
  duplicatesWithinAttempt: number;
  /** The attempts written twice, by mode and answer (e.g. `buffered 202: 3`). */
  writtenTwiceBy: Record<string, number>;
  /** Requests more than one of whose attempts is in Kafka. */
  writtenTwice: number;
  records: number;
}

/** Counts what `topic` holds against the load's attempts. */
export async function countDelivery(load: Load, topic: string, brokers: string[]): Promise<Counts> {
  const present = new Map<string, Map<number, number>>();
  const perMessage = new Map<string, number>();
  let records = 0;
  for (const { value } of await readAll(topic, brokers)) {
    const [run, request, attempt, index] = value.toString().split('/', 4);
    if (run !== load.run) continue;
    records += 1;
    const key = `${request}/${attempt}`;
    const indexes = present.get(key) ?? new Map<number, number>();
    indexes.set(Number(index), (indexes.get(Number(index)) ?? 0) + 1);
    present.set(key, indexes);
    const message = `${request}/${index}`;
    perMessage.set(message, (perMessage.get(message) ?? 0) + 1);
  }
  const counts: Counts = {
    requests: 0,
    attempts: load.attempts.length,
    acknowledged: 0,
    acknowledgedDurable: 0,
    acknowledgedBuffered: 0,
    missing: 0,
    partial: 0,
    fiveXxWritten: 0,
    fiveXxWrittenExamples: [],
    fiveXx: 0,
    unanswered: 0,
    unansweredWritten: 0,
    givenUp: 0,
    duplicates: 0,
    duplicatesWithinAttempt: 0,
    writtenTwiceBy: {},
    writtenTwice: 0,
    records,
  };
  const last = new Map<string, Attempt>();
  for (const a of load.attempts) {
    const previous = last.get(a.request);
    if (previous === undefined || previous.attempt < a.attempt) last.set(a.request, a);
    const written = present.get(`${a.request}/${a.attempt}`)?.size ?? 0;
    const acked = (a.mode === 'durable' ? 200 : 202) === a.status;
    if (acked) {
      counts.acknowledged += a.messages;
      if (a.mode === 'durable') counts.acknowledgedDurable += a.messages;
      else counts.acknowledgedBuffered += a.messages;
      counts.missing += a.messages - written;
    }
    if (written > 0 && written < a.messages) counts.partial += 1;
    const copies = present.get(`${a.request}/${a.attempt}`)?.values().next().value ?? 0;
    if (copies > 1) {
      const by = `${a.mode} ${a.status}`;
      counts.writtenTwiceBy[by] = (counts.writtenTwiceBy[by] ?? 0) + 1;
    }
    if (a.status >= 500) {
      counts.fiveXx += 1;
      if (written > 0) {
        counts.fiveXxWritten += 1;
        if (counts.fiveXxWrittenExamples.length < 5) counts.fiveXxWrittenExamples.push(a);
      }
    }
    if (a.status === 0) {
      counts.unanswered += 1;
      if (written > 0) counts.unansweredWritten += 1;
    }
  }
  counts.requests = last.size;
  for (const a of last.values()) {
    if (a.status !== (a.mode === 'durable' ? 200 : 202)) counts.givenUp += 1;
  }
  for (const n of perMessage.values()) counts.duplicates += n - 1;
  const writtenAttempts = new Map<string, number>();
  for (const [key, indexes] of present) {
    const request = key.slice(0, key.indexOf('/'));
    writtenAttempts.set(request, (writtenAttempts.get(request) ?? 0) + 1);
    for (const n of indexes.values()) counts.duplicatesWithinAttempt += n - 1;
  }
  for (const n of writtenAttempts.values()) if (n > 1) counts.writtenTwice += 1;
  return counts;
}

/**
 * Reads `topic` until every acknowledged message is there or `timeoutMs` passed (buffered
 * messages may still be on their way), then returns the final counts.
 */
export async function settleCounts(
  load: Load,
  topic: string,
  brokers: string[],
  timeoutMs = 30_000,
): Promise<Counts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await countDelivery(load, topic, brokers);
    if (counts.missing === 0 || Date.now() > deadline) return counts;
    await sleep(1_000);
  }
}

/** The counts that must be 0 (with the last shutdown's exit code, which must be 0 too). */
export function failures(counts: Counts): {
  missing: number;
  partial: number;
  fiveXxWritten: number;
} {
  return { missing: counts.missing, partial: counts.partial, fiveXxWritten: counts.fiveXxWritten };
}

/**
 * Prints what a report quotes: the scenario's events, its counts, and when something failed the
 * proxy's first warnings and every error it logged.
 */
export function report(
  scenario: string,
  options: {
    counts: Counts;
    startedAt: number;
    events: string[];
    logs: string[];
    exit: number | null;
  },
): void {
  const { counts, events, logs, exit } = options;
  if (events.length > 0) console.log(`[faults] ${scenario}: ${events.join(', ')}`);
  console.log(summary(scenario, counts, options.startedAt));
  const failed = Object.values(failures(counts)).some((n) => n > 0) || exit !== 0;
  if (!failed) return;
  const warnings = logLines(logs, ['warn']).slice(0, 8);
  const errors = logLines(logs);
  console.log(
    `[faults] ${scenario}: the proxy's last run exited ${exit}; its first warnings and its errors:\n` +
      [...warnings, ...errors].map((line) => line.slice(0, 600)).join('\n'),
  );
}

/** One line a report can quote (and one more naming 5xx answers whose messages were written). */
function summary(scenario: string, counts: Counts, startedAt: number): string {
  const c = counts;
  const examples = c.fiveXxWrittenExamples.map(
    (a) =>
      `${a.mode} ${a.request}#${a.attempt} ${a.status} ${a.error ?? ''} sent at ${a.sentMs} ms, ` +
      `answered at ${a.answeredMs ?? '?'} ms`,
  );
  return (
    (examples.length > 0 ? `[faults] ${scenario}: 5xx but written: ${examples.join('; ')}\n` : '') +
    `[faults] ${scenario}: ${c.requests} requests (${c.attempts} attempts), acknowledged ` +
    `${c.acknowledged} messages (${c.acknowledgedDurable} durable 200, ${c.acknowledgedBuffered} ` +
    `buffered 202), missing ${c.missing}, partial ${c.partial}, 5xx-but-written ` +
    `${c.fiveXxWritten} (of ${c.fiveXx} 5xx), unanswered ${c.unanswered} (written ` +
    `${c.unansweredWritten}), given up ${c.givenUp}, duplicates ${c.duplicates} (${c.writtenTwice} requests written by ` +
    `two attempts, ${c.duplicatesWithinAttempt} records of one attempt written twice` +
    `${Object.keys(c.writtenTwiceBy).length > 0 ? ` ${JSON.stringify(c.writtenTwiceBy)}` : ''}), records ` +
    `${c.records}, ${((Date.now() - startedAt) / 1000).toFixed(1)} s`
  );
}

/**
 * One scenario of a test file: its cluster (from `beforeAll`, released in `afterAll`, where a
 * proxy still running is killed too), its topic, and the proxy on a port that stays the same
 * across restarts.
 *
 * @example
 * const scenario = new FaultScenario(1);
 * it('...', async () => {
 *   await scenario.begin('faults-x', { partitions: 3 });
 *   const load = scenario.load({ durable: 8 });
 *   // ... faults ...
 *   const { counts, exit } = await scenario.finish('x', load, events);
 * });
 */
export class FaultScenario {
  cluster!: FaultCluster;
  proxy: ServerProcess | undefined;
  topic = '';
  port = 0;
  startedAt = 0;

  constructor(nodes: 1 | 3) {
    beforeAll(async () => {
      this.cluster = await faultCluster(nodes);
    });
    afterAll(async () => {
      await this.proxy?.stop('SIGKILL');
      await this.cluster?.release();
    });
  }

  get brokers(): string[] {
    return this.cluster.brokers;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Creates the scenario's topic and starts the proxy; resolves once it is ready. */
  async begin(prefix: string, topic: Omit<CreateTopicOptions, 'brokers'>): Promise<ServerProcess> {
    this.startedAt = Date.now();
    this.topic = await createTopic(uniqueTopic(prefix), { ...topic, brokers: this.brokers });
    this.port = await freePort();
    return this.startProxy();
  }

  /** Starts the proxy (again) on the scenario's port; resolves once it is ready. */
  async startProxy(): Promise<ServerProcess> {
    this.proxy = await startFaultProxy(this.brokers, this.topic, this.port);
    await waitReady(this.url);
    return this.proxy;
  }

  /** Concurrent clients of each mode, 20 messages a request. */
  load(clients: LoadOptions['clients']): Load {
    return startLoad({ url: this.url, clients, messagesPerRequest: 20 });
  }

  /**
   * Ends the load, stops the proxy with SIGTERM (so it writes all it still would), reads the topic
   * back and reports; resolves to the counts and the shutdown's exit code.
   */
  async finish(
    scenario: string,
    load: Load,
    events: string[],
    options: { retry?: boolean } = {},
  ): Promise<{ counts: Counts; exit: number | null }> {
    await load.stop(options);
    const proxy = this.proxy;
    const exit = proxy === undefined ? null : await proxy.stop('SIGTERM');
    const counts = await settleCounts(load, this.topic, this.brokers);
    report(scenario, { counts, startedAt: this.startedAt, events, logs: proxy?.logs ?? [], exit });
    return { counts, exit };
  }
}
