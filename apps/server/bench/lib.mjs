/* global process, console, URL, performance, setInterval, clearInterval, setTimeout, Buffer */
// What the benchmark scripts share: their options, the broker and the built server they need,
// topics, starting and stopping the server, posting to it, closed- and open-loop load, percentiles.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomFillSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { entryNodeOptions } from '@kproxy/testkit/proxy-process';
import { encodeFrames } from '@kproxy/framing';
import { CONTENT_TYPES, HEADERS } from '@kproxy/protocol';
import { Pool } from 'undici';

/** The built server, as `pnpm --filter @kproxy/server build` leaves it. */
export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
/** The token the server is started with and every request carries. */
export const TOKEN = `bench-${randomUUID()}`;

/**
 * The command line's options. `pnpm bench -- --clients 8` passes the `--` through; it is dropped
 * so that the flags are read.
 * @param {import('node:util').ParseArgsConfig['options']} spec
 * @param {{ allowPositionals?: boolean }} [config]
 */
export function readOptions(spec, config = {}) {
  const args = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--'));
  return parseArgs({ args, options: spec, ...config }).values;
}

/**
 * 256 messages of `size` random (incompressible) bytes: the pool every benchmark's requests take
 * their messages from, in turn.
 * @param {number} size
 */
export const randomMessages = (size) =>
  Array.from({ length: 256 }, () => randomFillSync(Buffer.alloc(size)));

/**
 * One request's framed body: `messages` messages taken in turn from {@link randomMessages}.
 * @param {number} size
 * @param {number} messages
 */
export function randomFramedBody(size, messages) {
  const pool = randomMessages(size);
  return encodeFrames(Array.from({ length: messages }, (_, i) => pool[i % pool.length]));
}

/** The operator's own `KAFKA_PROXY_*` / `KAFKA_FLUSHER_*` settings, for every server started. */
export const operatorSettings = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^KAFKA_(PROXY|FLUSHER)_/.test(k)),
  );

/**
 * `'1, 2,,3'` -> `['1', '2', '3']`: the values of a comma-separated option.
 * @param {string} s
 */
export const list = (s) =>
  s
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/**
 * The broker list from `KAFKA_BROKERS`, once it is set and the server is built; exits with 2 and
 * says what is missing otherwise.
 * @returns {string}
 */
export function brokersOrExit() {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    console.error('KAFKA_BROKERS is not set: start a broker first (scripts/kafka.sh up prints it)');
    process.exit(2);
  }
  if (!existsSync(MAIN)) {
    console.error('dist/main.js is missing: run `pnpm --filter @kproxy/server build` first');
    process.exit(2);
  }
  return brokers;
}

/**
 * An admin client for `brokers` (comma-separated), for creating topics and reading end offsets.
 * @param {string} brokers
 */
export const kafkaAdmin = (brokers) =>
  new Admin({ clientId: 'kafka-proxy-bench', bootstrapBrokers: brokers.split(',') });

/**
 * Creates a fresh topic named `<prefix>-<8 random hex digits>` and waits until it has leaders.
 * @param {Admin} admin
 * @param {string} prefix
 * @param {number} partitions
 * @returns {Promise<string>} the topic's name
 */
export async function createTopic(admin, prefix, partitions) {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  for (let attempt = 0; ; attempt++) {
    try {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const described = metadata.topics.get(topic);
      if (described?.partitions.every((p) => p.leader >= 0)) return topic;
    } catch (error) {
      if (attempt > 50) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Messages a topic holds: the sum of its partitions' end offsets (topics here are never
 * truncated, so that is every message ever acknowledged into it).
 * @param {Admin} admin
 * @param {string} topic
 * @param {number} partitions
 */
export async function landed(admin, topic, partitions) {
  const [listed] = await admin.listOffsets({
    topics: [
      {
        name: topic,
        partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp: -1n,
        })),
      },
    ],
  });
  return (listed?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0);
}

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU time process `pid` has used so far, in ms, over all its threads (user + system, from
 * `/proc/<pid>/stat`); undefined once it has exited.
 * @param {number} pid
 */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * Starts the built server on 127.0.0.1 (a free port, the bench token, request log at `info`) with
 * `env` on top, and resolves once it logs that it is listening.
 * @param {Record<string, string>} env `KAFKA_PROXY_*` / `KAFKA_FLUSHER_*` settings
 * @param {string} [name] what to call the server if it exits before listening
 * @param {string} [main] the script to run (the built server's entry point by default)
 * @param {string[]} [nodeOptions] Node options to run it with instead of its entry point's `#!` line
 * @returns {Promise<{ url: string, child: import('node:child_process').ChildProcess }>}
 */
export async function startServer(env, name = 'server', main = MAIN, nodeOptions = undefined) {
  const child = spawn(process.execPath, [...(nodeOptions ?? entryNodeOptions(MAIN)), main], {
    env: {
      PATH: process.env.PATH,
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      KAFKA_PROXY_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk) => {
      buffer += chunk.toString();
      const match = /"url":"([^"]+)","tls":\w+,"msg":"listening"/.exec(buffer);
      if (match) {
        child.stdout.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  // The request log (one JSON line per request at info) is part of the server's cost; dropped here.
  child.stdout.resume();
  return { url, child };
}

/**
 * Stops the server with SIGTERM and waits for it to exit.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopServer(child) {
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/**
 * `clients` keep-alive connections to `url`, one request at a time on each.
 * @param {string} url
 * @param {number} clients
 */
export const keepAlivePool = (url, clients) =>
  new Pool(url, { connections: clients, pipelining: 1 });

/**
 * Posts one framed body to the server with the bench token; the caller reads the response body.
 * @param {Pool} pool
 * @param {Uint8Array} body
 */
export const post = (pool, body) =>
  pool.request({
    path: '/',
    method: 'POST',
    headers: { [HEADERS.token]: TOKEN, 'content-type': CONTENT_TYPES.frames },
    body,
  });

/**
 * `connections` keep-alive connections to `url` that post one fixed framed body each time, one
 * request at a time on each: a load generator that costs little CPU of its own (the request's
 * bytes are built once, the answer is read only as far as its status line and `content-length`),
 * so that on a machine it shares with the proxy and the broker it takes as little as it can from
 * them. A request sent while every connection is busy waits for the first one free.
 * @param {string} url
 * @param {number} connections
 * @param {Uint8Array} body
 * @param {string} [path] the path posted to: `/` (the default topic), or `/topics/{topic}`
 * @returns {{ post: () => Promise<number>, close: () => Promise<void> }} `post` resolves with the
 *   answer's status once the whole answer is read
 */
export function fixedBodyPoster(url, connections, body, path = '/') {
  const { hostname, port } = new URL(url);
  const head = Buffer.from(
    `POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${HEADERS.token}: ${TOKEN}\r\n` +
      `content-type: ${CONTENT_TYPES.frames}\r\ncontent-length: ${body.byteLength}\r\n\r\n`,
  );
  const request = Buffer.concat([head, body]);
  const idle = [];
  const waiting = [];
  const sockets = new Set();
  let closed = false;

  /** A connection that reads one answer at a time and hands itself back when done. */
  const open = () => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    sockets.add(socket);
    let pending; // { resolve, reject } of the request in flight
    let buffered = Buffer.alloc(0);
    let status = 0;
    let remaining = -1; // body bytes still to read, -1 while reading the head
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        if (remaining < 0) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const text = buffered.toString('latin1', 0, end);
          status = Number(text.slice(9, 12));
          const length = /\r\ncontent-length: *(\d+)/i.exec(text);
          if (length === null) {
            pending?.reject(
              new Error(`an answer without content-length: ${text.split('\r\n')[0]}`),
            );
            socket.destroy();
            return;
          }
          remaining = Number(length[1]);
          buffered = buffered.subarray(end + 4);
        }
        if (buffered.length < remaining) return;
        buffered = buffered.subarray(remaining);
        remaining = -1;
        const done = pending;
        pending = undefined;
        release(connection);
        done?.resolve(status);
        if (buffered.length === 0) return;
      }
    });
    let dead = false;
    const fail = (error) => {
      if (dead) return;
      dead = true;
      sockets.delete(socket);
      const index = idle.indexOf(connection);
      if (index >= 0) idle.splice(index, 1);
      pending?.reject(error ?? new Error('the connection closed'));
      pending = undefined;
      if (!closed) release(open());
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
    const connection = {
      send: (resolve, reject) => {
        pending = { resolve, reject };
        socket.write(request);
      },
    };
    return connection;
  };
  const release = (connection) => {
    const next = waiting.shift();
    if (next === undefined) idle.push(connection);
    else connection.send(next.resolve, next.reject);
  };
  for (let i = 0; i < connections; i++) idle.push(open());
  return {
    post: () =>
      new Promise((resolve, reject) => {
        const connection = idle.pop();
        if (connection === undefined) waiting.push({ resolve, reject });
        else connection.send(resolve, reject);
      }),
    close: async () => {
      closed = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Closed-loop load: `clients` senders, each awaiting `send(client, request)` for request `from`,
 * `from + 1`, ... while below `to` and while `Date.now()` is before `deadline`.
 * @param {object} o
 * @param {number} o.clients
 * @param {number} o.deadline a `Date.now()` value after which no sender starts another request
 * @param {(client: number, request: number) => Promise<boolean>} o.send resolves true once the
 *   request is acknowledged, false when it failed (counted, no latency)
 * @param {number} [o.from] first request index (0)
 * @param {number} [o.to] end of the request indices (no end)
 * @param {boolean} [o.timed] whether to record latencies (true)
 * @param {(error: Error) => void} [o.onError] called for a `send` that throws, which then counts as
 *   failed; without it the error propagates
 * @returns {Promise<{ latencies: number[], failures: number }>} latencies in ms of the acknowledged
 *   requests, in completion order
 */
export async function closedLoop({
  clients,
  deadline,
  send,
  from = 0,
  to = Infinity,
  timed = true,
  onError,
}) {
  const latencies = [];
  let failures = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let r = from; r < to && Date.now() < deadline; r++) {
        const t0 = performance.now();
        let ok;
        try {
          ok = await send(c, r);
        } catch (error) {
          if (!onError) throw error;
          onError(error);
          ok = false;
        }
        if (!ok) failures += 1;
        else if (timed) latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, failures };
}

/**
 * The `p` quantile (0..1) of ascending `sorted`, nearest rank below; NaN when it is empty.
 * @param {number[]} sorted
 * @param {number} p
 */
export const quantile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/**
 * A field of `/proc/<pid>/status` in MB (`VmRSS`, `VmHWM`, ...), or undefined where unreadable.
 * @param {number} pid
 * @param {string} field
 */
function procStatus(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples the RSS of process `pid` every 50 ms until the returned function is called, which gives
 * the peak in MB: the larger of the samples and the kernel's own peak (`VmHWM`), which includes
 * moments between samples. 0 where `/proc` is unreadable.
 * @param {number} pid
 * @returns {() => number}
 */
export function peakRss(pid) {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, procStatus(pid, 'VmRSS') ?? 0);
  }, 50);
  return () => {
    clearInterval(sampler);
    return Math.max(peak, procStatus(pid, 'VmHWM') ?? 0);
  };
}

/**
 * Open-loop load: starts `rate` requests per second for `seconds`, whether or not earlier ones
 * have been answered (as independent producers do). Each latency counts from when its request was due, not from when a connection
 * was free, so a server that falls behind cannot hide it (no coordinated omission).
 * @param {object} o
 * @param {number} o.rate requests per second
 * @param {number} o.seconds
 * @param {() => Promise<boolean>} o.send resolves true when the request is acknowledged
 * @returns {Promise<{ latencies: number[], acked: number, failed: number }>} sorted latencies, ms
 */
export async function openLoop({ rate, seconds, send }) {
  // The generator's own event loop: a request it starts late counts as the server's latency.
  const held = monitorEventLoopDelay({ resolution: 1 });
  held.enable();
  const latencies = [];
  let acked = 0;
  let failed = 0;
  const inFlight = new Set();
  const start = performance.now();
  const total = Math.round(rate * seconds);
  let issued = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
      for (; issued < due; issued++) {
        const dueAt = start + (issued * 1000) / rate;
        const request = send().then(
          (ok) => {
            if (ok) {
              acked += 1;
              latencies.push(performance.now() - dueAt);
            } else failed += 1;
          },
          () => {
            failed += 1;
          },
        );
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
      }
      if (issued >= total) {
        clearInterval(tick);
        resolve(undefined);
      }
    }, 1);
  });
  await Promise.all(inFlight);
  held.disable();
  latencies.sort((a, b) => a - b);
  return { latencies, acked, failed, generatorHeldMs: held.max / 1e6 };
}

/**
 * A histogram's cumulative bucket counts (`le` in seconds -> count, over all label values; `+Inf` as
 * `Infinity`) from the Prometheus text of `/metrics`.
 * @param {string} text
 * @param {string} name
 * @returns {Map<number, number>}
 */
export function histogramBuckets(text, name) {
  const buckets = new Map();
  // Label values may hold braces (route="/topics/{topic}"): only `le` and the count are read.
  const line = new RegExp(`^${name}_bucket\\{.*?\\ble="([^"]+)".*\\} (\\d+)$`);
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (m === null) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

/**
 * The upper bound, in ms, of the bucket holding quantile `q` of what was observed between two
 * scrapes of one histogram; Infinity past the last bucket, undefined when nothing was observed.
 * @param {Map<number, number>} before
 * @param {Map<number, number>} after
 * @param {number} q
 */
export function bucketQuantileMs(before, after, q) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (le) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  // Cumulative buckets: the last (+Inf) holds every observation.
  const total = Math.max(0, ...bounds.map(count));
  if (total === 0) return undefined;
  const found = bounds.find((le) => count(le) >= q * total);
  return found === undefined ? Infinity : found * 1000;
}

/**
 * V8's garbage collections as the server counts them (`nodejs_gc_duration_seconds`): for each
 * kind (`minor` scavenges, `major` mark-compacts, `incremental` marking steps), how many and
 * their pauses in ms, from the Prometheus text of `/metrics`.
 * @param {string} text
 * @returns {Map<string, { count: number, ms: number }>}
 */
export function gcPauses(text) {
  const kinds = new Map();
  const line = /^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([\d.e+-]+)/;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (m === null) continue;
    const kind = kinds.get(m[2]) ?? { count: 0, ms: 0 };
    if (m[1] === 'count') kind.count = Number(m[3]);
    else kind.ms = Number(m[3]) * 1000;
    kinds.set(m[2], kind);
  }
  return kinds;
}

/**
 * The garbage collections of each kind between two {@link gcPauses} readings: how many, and their
 * pauses in ms.
 * @param {Map<string, { count: number, ms: number }>} before
 * @param {Map<string, { count: number, ms: number }>} after
 */
export function gcBetween(before, after) {
  const between = {};
  for (const kind of ['minor', 'major', 'incremental']) {
    const a = after.get(kind) ?? { count: 0, ms: 0 };
    const b = before.get(kind) ?? { count: 0, ms: 0 };
    between[kind] = { count: a.count - b.count, ms: a.ms - b.ms };
  }
  return between;
}

/** A TCP port that was free a moment ago, for a listener a child process opens. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
