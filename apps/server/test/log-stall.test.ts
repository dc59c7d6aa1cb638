// Logging never blocks shutdown ("Operations" in apps/server/README.md). A real server process
// whose stdout is a pipe that is full and nobody reads, or whose reader has exited, must still end
// within the shutdown timeout on SIGTERM: the log lines are lost, never the process.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { serverMain } from '@kproxy/testkit/proxy-process';
import { brokers, createTopic, uniqueTopic } from './kafka.js';

const TOKEN = 'log-stall-token-7c1d';
const SHUTDOWN_TIMEOUT_S = 2;

let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
afterEach(() => {
  // A server the fix did not save would otherwise outlive the test.
  child?.kill('SIGKILL');
  child = undefined;
});

/** Starts the server with stdout piped to this process, read only until it logged "listening". */
async function startWithPipedStdout() {
  const topic = uniqueTopic('log-stall');
  await createTopic(topic);
  const proc = spawn(process.execPath, [serverMain()], {
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      KAFKA_PROXY_TOKEN: TOKEN,
      KAFKA_PROXY_KAFKA_SERVER: brokers().join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  let seen = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /"url":"([^"]+)"[^\n]*"listening"|"listening"[^\n]*"url":"([^"]+)"/.exec(seen);
      if (match !== null) {
        proc.stdout.off('data', onData);
        resolve(match[1] ?? match[2] ?? '');
      }
    };
    proc.stdout.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${seen}`)));
  });
  // From here on nobody reads stdout: it stays paused, and the pipe fills.
  proc.stdout.pause();
  return { proc, url, exited };
}

/** Makes the server log far more than a pipe holds: one ~8 KB line per request (405, long path). */
async function logALot(url: string): Promise<void> {
  const path = `/topics/${'p'.repeat(8_000)}`;
  for (let round = 0; round < 40; round++) {
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await fetch(`${url}${path}`, { headers: { 'x-kafka-proxy-token': TOKEN } });
        await res.arrayBuffer();
      }),
    );
  }
}

/** Sends SIGTERM and expects a clean exit within the shutdown timeout (plus start-up slack). */
async function expectExitOnSigterm(
  proc: NonNullable<typeof child>,
  exited: Promise<number | null>,
): Promise<void> {
  const started = Date.now();
  proc.kill('SIGTERM');
  const code = await Promise.race([
    exited,
    new Promise<undefined>((resolve) =>
      setTimeout(() => resolve(undefined), SHUTDOWN_TIMEOUT_S * 1000 + 3_000),
    ),
  ]);
  const ms = Date.now() - started;
  expect(code, `still running ${ms} ms after SIGTERM`).toBe(0);
  expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_S * 1000 + 1_000);
}

describe('shutdown whatever stdout does (real process)', () => {
  it('exits on SIGTERM after the reader of its stdout exited', async () => {
    const { proc, url, exited } = await startWithPipedStdout();
    proc.stdout.destroy();
    await logALot(url);
    await expectExitOnSigterm(proc, exited);
  });

  it('exits on SIGTERM while its stdout pipe is full and nobody reads it', async () => {
    const { proc, url, exited } = await startWithPipedStdout();
    await logALot(url);
    await expectExitOnSigterm(proc, exited);
  });

  it('exits on SIGTERM when the reader of its full stdout exits meanwhile', async () => {
    const { proc, url, exited } = await startWithPipedStdout();
    await logALot(url);
    // The reader dies (`| tee log` and Ctrl-C) after the server began to exit with a full pipe.
    setTimeout(() => proc.stdout.destroy(), 1_200);
    await expectExitOnSigterm(proc, exited);
  });
});
