// Several proxy processes against one broker, sharing the default topic through Kafka
// (KAFKA_PROXY_TOPIC_STORE=kafka): they are started from the built entry point exactly as an
// operator would, and driven over HTTP like a client.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeFrames } from '@kproxy/framing';
import { createTopic, kafka, kafkaBrokers, readMessages, uniqueTopic } from '@kproxy/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const TOKEN = 'replicas-test-token';

const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

interface Replica {
  name: string;
  url: string;
  cacheFile: string;
  process: ChildProcess;
  output: string[];
  exit: Promise<number | null>;
}

let work: string;
const running = new Set<Replica>();

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the server first`);
  work = await mkdtemp(join(tmpdir(), 'kafka-proxy-replicas-'));
});

afterAll(async () => {
  for (const r of running) r.process.kill('SIGKILL');
  await Promise.all([...running].map((r) => r.exit));
  await rm(work, { recursive: true, force: true });
});

/** Starts `node dist/main.js` with the kafka topic store; resolves once it listens. */
async function startReplica(
  name: string,
  storeTopic: string,
  env: Record<string, string> = {},
): Promise<Replica> {
  const dir = join(work, unique(name));
  await mkdir(dir, { recursive: true });
  const cacheFile = join(dir, 'topic');
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      KAFKA_FLUSHER_TOPIC_CACHE: cacheFile,
      KAFKA_PROXY_TOPIC: 'initial',
      KAFKA_PROXY_TOPIC_STORE: 'kafka',
      KAFKA_PROXY_TOPIC_STORE_TOPIC: storeTopic,
      KAFKA_PROXY_SHUTDOWN_TIMEOUT: '10',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen:\n${tail()}`)), 60_000);
    const tail = (): string => output.slice(-30).join('\n');
    lines.on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url !== undefined) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${tail()}`));
    });
  });
  const replica: Replica = { name, url, cacheFile, process: child, output, exit };
  running.add(replica);
  void exit.then(() => running.delete(replica));
  return replica;
}

async function stop(replica: Replica): Promise<number | null> {
  replica.process.kill('SIGTERM');
  return replica.exit;
}

const auth = { 'x-kafka-proxy-token': TOKEN };

async function getTopic(replica: Replica): Promise<string> {
  const res = await fetch(`${replica.url}/topic`, { headers: auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { topic: string }).topic;
}

async function setTopic(replica: Replica, topic: string): Promise<void> {
  const res = await fetch(`${replica.url}/topic/${topic}`, { method: 'POST', headers: auth });
  expect(`${res.status} ${await res.text()}`).toBe(`200 Topic changed to ${topic}`);
}

/** Pushes one message to the default topic; returns the topic the replica says it used. */
async function push(replica: Replica, message: string): Promise<string> {
  const res = await fetch(`${replica.url}/`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream', accept: 'application/json' },
    body: encodeFrames([new TextEncoder().encode(message)]),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { topic: string }).topic;
}

/** Polls GET /topic until it says `topic`; resolves with the time it was first seen. */
async function seenAt(replica: Replica, topic: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await getTopic(replica)) === topic) return performance.now();
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${replica.name} still on ${await getTopic(replica)}, not ${topic}`);
}

describe('three replicas sharing the default topic through Kafka', () => {
  const storeTopic = uniqueTopic('_kp-replicas-store');
  const x = uniqueTopic('replicas-x');
  let fleet: Replica[] = [];

  it('uses a change at once on the replica that answered and within a second on the others', async () => {
    await createTopic(x);
    fleet = await Promise.all(['a', 'b', 'c'].map((n) => startReplica(n, storeTopic)));
    const [a, b, c] = fleet as [Replica, Replica, Replica];
    for (const r of fleet) expect(await getTopic(r)).toBe('initial');

    const t0 = performance.now();
    const followers = Promise.all([seenAt(b, x, 5000), seenAt(c, x, 5000)]);
    await setTopic(a, x);
    const answered = performance.now();
    expect(await push(a, 'via-a')).toBe(x);
    const [bAt, cAt] = await followers;
    console.log(
      `POST /topic to one replica answered 200 after ${(answered - t0).toFixed(0)} ms; the other two ` +
        `served the new topic ${(bAt - t0).toFixed(0)} ms and ${(cAt - t0).toFixed(0)} ms after the ` +
        `request was sent (GET /topic polled every 5 ms)`,
    );
    // Within a second of the answer (they may even see it before the answer reaches the client).
    expect(bAt - answered).toBeLessThan(1000);
    expect(cAt - answered).toBeLessThan(1000);
    expect(await push(b, 'via-b')).toBe(x);
    expect(await push(c, 'via-c')).toBe(x);
    const read = await readMessages(x, { count: 3 });
    expect(read.map((m) => m.value.toString()).sort()).toEqual(['via-a', 'via-b', 'via-c']);
  });

  it('starts a later replica on the shared topic, whatever its own cache file says', async () => {
    const dir = join(work, unique('late'));
    await mkdir(dir);
    const staleCache = join(dir, 'topic');
    await writeFile(staleCache, 'stale-topic\n');
    const late = await startReplica('late', storeTopic, {
      KAFKA_FLUSHER_TOPIC_CACHE: staleCache,
      KAFKA_PROXY_TOPIC: 'other-initial',
    });
    expect(await getTopic(late)).toBe(x);
    expect(await push(late, 'via-late')).toBe(x);
    // The cache file follows the shared value, so it seeds correctly if the store is switched.
    expect((await readFile(staleCache, 'utf8')).trim()).toBe(x);
    expect(await stop(late)).toBe(0);
  });

  it('keeps the topic when every replica restarts', async () => {
    const codes = await Promise.all(fleet.map((r) => stop(r)));
    expect(codes).toEqual([0, 0, 0]);
    fleet = await Promise.all(
      ['a2', 'b2', 'c2'].map((n) =>
        startReplica(n, storeTopic, { KAFKA_PROXY_TOPIC: 'after-restart' }),
      ),
    );
    for (const r of fleet) expect(await getTopic(r)).toBe(x);
  });

  it('converges on one topic when the replicas change it at the same time', async () => {
    const candidates = fleet.map((_, i) => `${x}-race${i}`);
    await Promise.all(fleet.map((r, i) => setTopic(r, candidates[i] ?? '')));
    const started = performance.now();
    let seen: string[] = [];
    while (performance.now() - started < 2000) {
      seen = await Promise.all(fleet.map((r) => getTopic(r)));
      if (new Set(seen).size === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(new Set(seen).size).toBe(1);
    expect(candidates).toContain(seen[0]);
    console.log(
      `three concurrent changes converged on ${seen[0]} in ${(performance.now() - started).toFixed(0)} ms`,
    );
  });

  it('does not lose a change when the replica that answered is killed right after its 200', async () => {
    const z = `${x}-killed`;
    const [a, b, c] = fleet as [Replica, Replica, Replica];
    await setTopic(a, z);
    a.process.kill('SIGKILL');
    expect(await a.exit).toBeNull();
    const fresh = await startReplica('after-kill', storeTopic, { KAFKA_PROXY_TOPIC: 'fresh' });
    expect(await getTopic(fresh)).toBe(z);
    await seenAt(b, z, 1000);
    await seenAt(c, z, 1000);
  });

  it('answers 503 and keeps the old topic when Kafka does not take a change', async () => {
    const ownStore = uniqueTopic('_kp-replicas-store-gone');
    const replica = await startReplica('kafka-refuses', ownStore, { KAFKA_PROXY_ACK_TIMEOUT: '2' });
    const before = await getTopic(replica);
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [ownStore] });
    } finally {
      await admin.disconnect();
    }
    const res = await fetch(`${replica.url}/topic/${x}-refused`, { method: 'POST', headers: auth });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(((await res.json()) as { error: string }).error).toBe('kafka_unavailable');
    expect(await getTopic(replica)).toBe(before);
    replica.process.kill('SIGKILL');
  });
});
