import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeFrames } from '@kproxy/framing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, readAllValues, readValues, uniqueTopic } from '@kproxy/testkit';
import { makeTestCertificates } from '@kproxy/testkit';
import { spawnServer, startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';
import { runReadmeExamples } from './readme.js';
import { MAIN, spawnCli } from './run-cli.js';

const exec = promisify(execFile);
let proxy: ProxyProcess;
let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  proxy = await startProxy({ brokers: kafkaBrokers() });
  env = { KPROXY_URL: proxy.url, KPROXY_TOKEN: proxy.token };
  dir = await mkdtemp(join(tmpdir(), 'kproxy-it-'));
});
afterAll(async () => {
  await proxy.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('kproxy against a real server and broker', () => {
  it('pushes a 100,000-line file as 100,000 messages', async () => {
    const topic = uniqueTopic('cli-100k');
    await createTopic(topic);
    const file = join(dir, '100k.txt');
    const out = createWriteStream(file);
    for (let i = 0; i < 100_000; i++) out.write(`line ${i} ${'x'.repeat(i % 40)}\n`);
    await new Promise((resolve) => out.end(resolve));
    const started = Date.now();
    const res = await spawnCli(['push', '--topic', topic, '--json', file], { env });
    const ms = Date.now() - started;
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout.toString()) as { messages: number; requests: number };
    expect(summary.messages).toBe(100_000);
    const stored = (await readValues(topic, 100_000)).map(String);
    expect(stored).toHaveLength(100_000);
    expect(new Set(stored).size).toBe(100_000);
    expect(stored).toContain(`line 99999 ${'x'.repeat(99_999 % 40)}`);
    console.info(
      `push 100,000 lines: ${ms} ms, ${summary.requests} requests; ${res.stderr.trim()}`,
    );
  });

  it('--framed round-trips binary payloads with newlines and zero bytes', async () => {
    const topic = uniqueTopic('cli-framed');
    await createTopic(topic);
    const payloads = [
      Buffer.from([0, 0, 0, 0]),
      Buffer.from('line one\nline two\r\n'),
      Buffer.alloc(0),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    ];
    const file = join(dir, 'body.bin');
    await writeFile(file, encodeFrames(payloads));
    const res = await spawnCli(['push', '--framed', '--topic', topic, file], { env });
    expect(res.code).toBe(0);
    expect(await readValues(topic, payloads.length)).toEqual(payloads);
  });

  it('draws a progress bar in a terminal and none when piped', async () => {
    const topic = uniqueTopic('cli-progress');
    const file = join(dir, 'progress.txt');
    await writeFile(file, Array.from({ length: 20_000 }, (_, i) => `p${i}\n`).join(''));
    const ttyEnv = { ...process.env, ...env };
    const tty = await exec(
      'script',
      ['-qec', `"${process.execPath}" "${MAIN}" push --topic ${topic} "${file}"`, '/dev/null'],
      { env: ttyEnv },
    );
    expect(tty.stdout).toMatch(/\[#+\] 100% {2}20,000 messages .* ETA 0:00\r?\n/);
    const piped = await spawnCli(['push', '--topic', topic, file], { env });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toMatch(/^pushed 20,000 messages .*\n$/);
  });

  it('exits 1 with a readable message on a wrong token or an unreachable URL', async () => {
    const wrong = await spawnCli(['push'], {
      stdin: 'x\n',
      env: { KPROXY_URL: proxy.url, KPROXY_TOKEN: 'wrong' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('kproxy: push failed: 401 unauthorized');
    const unreachable = await spawnCli(['push', '--attempts', '2'], {
      stdin: 'x\n',
      env: { KPROXY_URL: 'http://127.0.0.1:1', KPROXY_TOKEN: proxy.token },
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:1: ECONNREFUSED');
  });

  it('pushes over HTTPS to the real server with --cacert, and is refused at once without', async () => {
    const certs = await makeTestCertificates();
    const topic = uniqueTopic('cli-https');
    await createTopic(topic);
    const server = await spawnServer({
      KAFKA_PROXY_TOKEN: 'https-token',
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      KAFKA_PROXY_TOPIC: topic,
      KAFKA_PROXY_TLS_CERT: certs.leaf.certPath,
      KAFKA_PROXY_TLS_KEY: certs.leaf.keyPath,
    });
    try {
      const tlsEnv = { KPROXY_URL: server.url, KPROXY_TOKEN: 'https-token' };
      const refused = await spawnCli(['push', '--topic', topic], { stdin: 'no\n', env: tlsEnv });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('certificate_error');
      expect(refused.stderr).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      const res = await spawnCli(['push', '--cacert', certs.ca.certPath, '--topic', topic], {
        stdin: 'over https\n',
        env: tlsEnv,
      });
      expect(res.code).toBe(0);
      expect((await readValues(topic, 1)).map(String)).toEqual(['over https']);
    } finally {
      await server.stop();
      await certs.remove();
    }
  });

  it('topic set/get and health work against the server', async () => {
    const topic = uniqueTopic('cli-default');
    expect((await spawnCli(['topic', 'set', topic], { env })).code).toBe(0);
    const got = await spawnCli(['topic', 'get'], { env });
    expect(got.stdout.toString()).toBe(`${topic}\n`);
    const health = await spawnCli(['health', '--url', proxy.url]);
    expect(health).toMatchObject({ code: 0 });
    expect(health.stdout.toString()).toBe('live: yes\nready: yes\n');
  });

  it('the README examples run against the server and land in Kafka', async () => {
    const { stdout } = await runReadmeExamples(proxy.url, proxy.token);
    expect(stdout).toContain('hello\nworld\nTopic changed to readme-default\nreadme-default\n');
    // README topics are fixed names, so earlier runs may have left messages: look at the newest.
    const events = (await readAllValues('readme-events')).map(String);
    expect(events.slice(-5)).toEqual(['first', 'second', 'third', 'from', 'stdin']);
    const files = (await readAllValues('readme-files')).map(String);
    expect(files.slice(-1)).toEqual(['a whole\nfile\n']);
    const framed = (await readAllValues('readme-framed')).map(String);
    expect(framed.slice(-2)).toEqual(['hello', 'world']);
    const fallback = (await readAllValues('readme-default')).map(String);
    expect(fallback.slice(-1)).toEqual(['to the default topic']);
  });
});
