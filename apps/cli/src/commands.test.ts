import { encodeFrames } from '@kproxy/framing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { runCli } from '../test/run-cli.js';

let fake: FakeProxy;
let env: { url: string; token: string };
beforeEach(async () => {
  fake = await startFakeProxy();
  env = { url: fake.url, token: 'secret' };
});
afterEach(async () => {
  await fake.close();
});

describe('kproxy frame / unframe', () => {
  it('frame turns lines into length-prefixed frames', async () => {
    const res = await runCli(['frame'], { stdin: 'This is a test\nx\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toEqual(
      Buffer.concat([
        Buffer.from([14, 0, 0, 0]),
        Buffer.from('This is a test'),
        Buffer.from([1, 0, 0, 0]),
        Buffer.from('x'),
      ]),
    );
  });

  it('unframe turns frames back into lines', async () => {
    const body = encodeFrames([Buffer.from('hello'), Buffer.from(''), Buffer.from('world')]);
    const res = await runCli(['unframe'], { stdin: body });
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toBe('hello\n\nworld\n');
  });

  it('frame then unframe gives the lines back', async () => {
    const text = 'a\nbb\n\nccc ✓\n';
    const framed = await runCli(['frame'], { stdin: text });
    const back = await runCli(['unframe'], { stdin: framed.stdout });
    expect(back.stdout.toString()).toBe(text);
  });

  it('unframe rejects a truncated body with exit 1', async () => {
    const res = await runCli(['unframe'], { stdin: Buffer.from([5, 0, 0, 0, 1]) });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('stdin is not valid framed input');
  });
});

describe('kproxy topic', () => {
  it('topic get prints the default topic', async () => {
    const res = await runCli(['topic', 'get'], { env });
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout.toString()).toBe('default-topic\n');
  });

  it('topic set changes it', async () => {
    const res = await runCli(['topic', 'set', 'orders'], { env });
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toBe('Topic changed to orders\n');
    expect(fake.defaultTopic).toBe('orders');
  });

  it('topic set refuses an invalid name without a request', async () => {
    const res = await runCli(['topic', 'set', 'no/slashes'], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('invalid_topic');
    expect(fake.requests).toHaveLength(0);
  });

  it('topic get with a wrong token exits 1 with the reason', async () => {
    const res = await runCli(['topic', 'get'], { env: { url: fake.url, token: 'nope' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('401 unauthorized');
  });
});

describe('kproxy health', () => {
  it('exits 0 when live and ready, without a token', async () => {
    const res = await runCli(['health', '--url', fake.url]);
    expect(res.code).toBe(0);
    expect(res.stdout.toString()).toBe('live: yes\nready: yes\n');
  });

  it('exits 1 when not ready, with the reason', async () => {
    fake.ready = false;
    const res = await runCli(['health'], { env });
    expect(res.code).toBe(1);
    expect(res.stdout.toString()).toBe('live: yes\nready: no\n');
    expect(res.stderr).toContain(
      'not ready: 503 kafka_unavailable: Kafka is not reachable; retry later',
    );
  });

  it('exits 1 when the server cannot be reached', async () => {
    const url = fake.url;
    await fake.close();
    const res = await runCli(['health', '--url', url]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ECONNREFUSED');
    fake = await startFakeProxy();
  });
});
