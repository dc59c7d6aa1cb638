import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrames } from '@kproxy/framing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptedTexts, startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { PassThrough } from 'node:stream';
import { run } from './program.js';
import { runCli } from '../test/run-cli.js';

let fake: FakeProxy;
let dir: string;
let env: { url: string; token: string };
beforeEach(async () => {
  fake = await startFakeProxy();
  env = { url: fake.url, token: 'secret' };
  dir = await mkdtemp(join(tmpdir(), 'kproxy-push-'));
});
afterEach(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

describe('kproxy push', () => {
  it('pushes each stdin line as a message and prints a summary', async () => {
    const res = await runCli(['push', '--topic', 'events'], { stdin: 'one\ntwo\r\nthree\n', env });
    expect(res.code).toBe(0);
    expect(acceptedTexts(fake)).toEqual(['one', 'two', 'three']);
    expect(fake.accepted[0]!.path).toBe('/topics/events');
    expect(res.stderr).toMatch(
      /^pushed 3 messages \(11 B\) to topic events in [\d.]+s \(.* 1 request, 0 retries\)\n$/,
    );
    expect(res.stdout.length).toBe(0);
  });

  it('pushes files in order, streaming a large file in bounded batches', async () => {
    const big = join(dir, 'big.txt');
    const stream = createWriteStream(big);
    for (let i = 0; i < 100_000; i++) stream.write(`line ${i}\n`);
    await new Promise((resolve) => stream.end(resolve));
    const small = join(dir, 'small.txt');
    await writeFile(small, 'tail\n');
    const res = await runCli(['push', '--batch-messages', '5000', '--json', big, small], { env });
    expect(res.code).toBe(0);
    const texts = acceptedTexts(fake);
    expect(texts).toHaveLength(100_001);
    expect(new Set(texts).size).toBe(100_001);
    expect(texts).toContain('line 99999');
    expect(Math.max(...fake.accepted.map((r) => r.messages.length))).toBeLessThanOrEqual(5000);
    expect(fake.accepted.length).toBeLessThan(40);
    const summary = JSON.parse(res.stdout.toString()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      ok: true,
      messages: 100_001,
      failed: 0,
      topic: 'default-topic',
    });
    expect(summary.requests).toBe(fake.accepted.length);
  });

  it('sends to the default topic through POST / when no topic is given', async () => {
    const res = await runCli(['push'], { stdin: 'x\n', env });
    expect(res.code).toBe(0);
    expect(fake.accepted[0]!.path).toBe('/');
    expect(res.stderr).toContain('to topic default-topic');
  });

  it('--per-file sends each file whole, newlines and all', async () => {
    const a = join(dir, 'a.bin');
    const b = join(dir, 'b.bin');
    await writeFile(a, Buffer.from([1, 10, 0, 10]));
    await writeFile(b, 'second\nfile\n');
    const res = await runCli(['push', '--per-file', a, b], { env });
    expect(res.code).toBe(0);
    const got = fake.accepted.flatMap((r) => r.messages.map((m) => Buffer.from(m)));
    expect(got).toEqual([Buffer.from([1, 10, 0, 10]), Buffer.from('second\nfile\n')]);
  });

  it('--framed pushes binary payloads with newlines and zero bytes unchanged', async () => {
    const payloads = [new Uint8Array([0, 0, 10, 13, 10]), new Uint8Array(0), Buffer.from('a\nb')];
    const res = await runCli(['push', '--framed', '-t', 'bin'], {
      stdin: encodeFrames(payloads),
      env,
    });
    expect(res.code).toBe(0);
    const got = fake.accepted.flatMap((r) => r.messages.map((m) => Buffer.from(m)));
    expect(got).toEqual(payloads.map((p) => Buffer.from(p)));
  });

  it('--framed rejects truncated input naming the frame, exit 1', async () => {
    const body = encodeFrames([Buffer.from('ok'), Buffer.from('cut short')]).subarray(0, 12);
    const res = await runCli(['push', '--framed'], { stdin: body, env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('stdin is not valid framed input');
    expect(res.stderr).toContain('frame 1 at byte 6: truncated_payload');
  });

  it('--skip-empty leaves out empty lines', async () => {
    const res = await runCli(['push', '--skip-empty'], { stdin: 'a\n\n\nb\n', env });
    expect(res.code).toBe(0);
    expect(acceptedTexts(fake)).toEqual(['a', 'b']);
  });

  it('--gzip compresses request bodies', async () => {
    const res = await runCli(['push', '--gzip'], { stdin: 'z'.repeat(5000), env });
    expect(res.code).toBe(0);
    expect(fake.accepted[0]!.headers['content-encoding']).toBe('gzip');
    expect(acceptedTexts(fake)).toEqual(['z'.repeat(5000)]);
  });

  it('retries a 503 and says so in the summary', async () => {
    fake.script.push({
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '0' },
      body: '{"error":"kafka_unavailable","message":"Kafka is unavailable"}',
    });
    const res = await runCli(['push'], { stdin: 'again\n', env });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('1 request, 1 retry');
    expect(acceptedTexts(fake)).toEqual(['again']);
  });

  it('fails with exit 1 and a readable message on a wrong token', async () => {
    const res = await runCli(['push'], { stdin: 'x\n', env: { url: fake.url, token: 'wrong' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'kproxy: push failed: 401 unauthorized: invalid token - check --token or KPROXY_TOKEN',
    );
    expect(fake.accepted).toHaveLength(0);
  });

  it('fails with exit 1 when the server rejects a batch', async () => {
    fake.script.push({ status: 400, body: '{"error":"truncated_frame","message":"bad frames"}' });
    const res = await runCli(['push'], { stdin: 'x\n', env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('400 truncated_frame: bad frames');
    expect(res.stderr).toContain('delivered 0 messages');
  });

  it('fails with exit 1 on an unreachable URL, after its retries', async () => {
    const url = fake.url;
    await fake.close();
    const res = await runCli(['push', '--attempts', '2'], {
      stdin: 'x\n',
      env: { url, token: 't' },
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /network_error: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED \(after 2 attempts\)/,
    );
    fake = await startFakeProxy();
  });

  it('rejects a message over --max-message-bytes before sending anything', async () => {
    const res = await runCli(['push', '--max-message-bytes', '3'], {
      stdin: 'ok\ntoo long\n',
      env,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('message_too_large');
  });

  it('exits 2 with a hint when the URL or token is missing', async () => {
    const noUrl = await runCli(['push'], { stdin: 'x\n', env: { token: 't' } });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toBe('kproxy: no proxy URL: pass --url <url> or set KPROXY_URL\n');
    const noToken = await runCli(['push', '--url', fake.url], { stdin: 'x\n' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('set KPROXY_TOKEN');
  });

  it('flags beat the environment', async () => {
    const res = await runCli(['push', '--token', 'secret'], {
      stdin: 'x\n',
      env: { url: fake.url, token: 'wrong' },
    });
    expect(res.code).toBe(0);
  });

  it('exits 2 on a bad flag value or conflicting modes', async () => {
    expect((await runCli(['push', '--batch-messages', 'many'], { env })).code).toBe(2);
    expect((await runCli(['push', '--per-file', '--framed'], { env })).code).toBe(2);
  });

  it('exits 1 naming a file that cannot be read', async () => {
    const res = await runCli(['push', join(dir, 'missing.txt')], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('cannot read');
    expect(res.stderr).toContain('missing.txt');
  });

  it('draws a progress bar only when stderr is a terminal', async () => {
    const file = join(dir, 'f.txt');
    await writeFile(file, 'a\nb\nc\n');
    const tty = await runCli(['push', file], { env, tty: true });
    expect(tty.code).toBe(0);
    const draws = tty.stderr.split('\r\u001b[2K');
    expect(draws.length).toBeGreaterThan(1);
    expect(draws.at(-1)).toMatch(
      /^\[#+\] 100% {2}3 messages {2}3 B {2}[\d,]+ msg\/s {2}0:00 {2}ETA 0:00\npushed 3 messages/,
    );
    const piped = await runCli(['push', file], { env, tty: false });
    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr).not.toContain('msg/s  ');
    const off = await runCli(['push', '--no-progress', file], { env, tty: true });
    expect(off.stderr).not.toContain('\r');
  });

  it('fits every redraw of the progress bar in the terminal width', async () => {
    const file = join(dir, 'f.txt');
    await writeFile(file, Array.from({ length: 5000 }, (_, i) => `m${i}\n`).join(''));
    for (const columns of [40, 120]) {
      const tty = await runCli(['push', file], { env, tty: true, columns });
      expect(tty.code).toBe(0);
      const draws = tty.stderr.split('\r\u001b[2K').slice(1);
      const last = draws.at(-1)!.split('\n')[0]!;
      for (const draw of draws) expect(draw.split('\n')[0]!.length).toBeLessThan(columns);
      if (columns === 120) expect(last).toHaveLength(119);
      expect(last).toMatch(/100% {2}5,000 messages .*0:0\d {2}ETA 0:00$/);
    }
  });

  it('says 1 message and 1 request in the summary', async () => {
    const res = await runCli(['push', '--topic', 'one'], { stdin: 'single\n', env });
    expect(res.stderr).toMatch(
      /^pushed 1 message \(6 B\) to topic one in .* 1 request, 0 retries\)\n$/,
    );
  });

  it('on Ctrl-C stops reading, delivers what it read, and exits 130', async () => {
    const stdin = new PassThrough();
    const stderr = new PassThrough();
    const errText: string[] = [];
    stderr.on('data', (c: Buffer) => errText.push(c.toString()));
    let interrupt: (() => void) | undefined;
    const running = run(['push', '--linger-ms', '60000'], {
      stdin,
      stdout: new PassThrough(),
      stderr,
      env,
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => undefined;
      },
    });
    stdin.write('read before\nthe interrupt\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.accepted).toHaveLength(0); // still lingering: the input never ended
    interrupt!();
    expect(await running).toBe(130);
    expect(acceptedTexts(fake)).toEqual(['read before', 'the interrupt']);
    expect(errText.join('')).toMatch(/interrupted: pushed 2 messages/);
  });
});
