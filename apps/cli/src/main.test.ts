// The built binary, run the way a user runs it: argv, environment, pipes and a pseudo-terminal.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptedTexts, startFakeProxy, type FakeProxy } from '@kproxy/fake-proxy';
import { MAIN, spawnCli } from '../test/run-cli.js';

const exec = promisify(execFile);
let fake: FakeProxy;
let dir: string;
beforeAll(async () => {
  fake = await startFakeProxy();
  dir = await mkdtemp(join(tmpdir(), 'kproxy-main-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

describe('kproxy binary', () => {
  it('starts with a shebang so it runs as a command', async () => {
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(MAIN, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it.each(['', 'push', 'topic', 'topic get', 'topic set', 'health', 'frame', 'unframe'])(
    'kproxy %s --help exits 0 and shows examples',
    async (command) => {
      const args = command === '' ? [] : command.split(' ');
      const res = await spawnCli([...args, '--help']);
      expect(res.code).toBe(0);
      const help = res.stdout.toString();
      expect(help).toContain(`Usage: kproxy ${command}`.trim());
      const examples = help.slice(help.search(/Examples?:\n/));
      expect(examples).toMatch(/^Examples?:\n {2}\$ [\s\S]*kproxy /);
    },
  );

  it('reads KPROXY_URL and KPROXY_TOKEN from the environment', async () => {
    const res = await spawnCli(['push', '--topic', 'from-env'], {
      stdin: 'env works\n',
      env: { KPROXY_URL: fake.url, KPROXY_TOKEN: 'secret' },
    });
    expect(res.code).toBe(0);
    expect(acceptedTexts(fake)).toContain('env works');
  });

  it('exits 1 with a readable message on a wrong token', async () => {
    const res = await spawnCli(['push'], {
      stdin: 'x\n',
      env: { KPROXY_URL: fake.url, KPROXY_TOKEN: 'wrong' },
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('kproxy: push failed: 401 unauthorized');
  });

  it('exits 1 with a readable message on an unreachable URL', async () => {
    const res = await spawnCli(['push', '--attempts', '1'], {
      stdin: 'x\n',
      env: { KPROXY_URL: 'http://127.0.0.1:1', KPROXY_TOKEN: 't' },
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'kproxy: push failed: network_error: cannot reach http://127.0.0.1:1',
    );
  });

  it('exits 2 on an unknown command', async () => {
    const res = await spawnCli(['pusj']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown command 'pusj'");
  });

  it.each([40, 120])(
    'draws the progress bar in a %d-column terminal within its width, and none when piped',
    async (columns) => {
      const file = join(dir, 'lines.txt');
      await writeFile(file, Array.from({ length: 2000 }, (_, i) => `l${i}\n`).join(''));
      const env = { ...process.env, KPROXY_URL: fake.url, KPROXY_TOKEN: 'secret' };
      // `script` gives the command a pseudo-terminal, as an interactive shell would; stty sets
      // the width the command reads from it.
      const command = `stty cols ${columns} rows 24; "${process.execPath}" "${MAIN}" push "${file}"`;
      const tty = await exec('script', ['-qec', command, '/dev/null'], { env });
      const draws = tty.stdout.split('\r\u001b[2K').slice(1);
      expect(draws.length).toBeGreaterThan(0);
      for (const draw of draws) expect(draw.split(/\r?\n/)[0]!.length).toBeLessThan(columns);
      const last = draws.at(-1)!;
      expect(last).toMatch(/100% {2}2,000 messages .*ETA 0:00\r?\npushed 2,000 messages/);
      if (columns === 120) expect(last.split(/\r?\n/)[0]).toMatch(/^\[#{30,}\] 100%/);
      const piped = await spawnCli(['push', file], {
        env: { KPROXY_URL: fake.url, KPROXY_TOKEN: 'secret' },
      });
      expect(piped.code).toBe(0);
      expect(piped.stderr).toMatch(/^pushed 2,000 messages .*\n$/);
      expect(piped.stderr).not.toContain('#');
    },
  );

  it('Ctrl-C (SIGINT) on an endless input ends the push cleanly with exit 130', async () => {
    const { spawn } = await import('node:child_process');
    const before = fake.accepted.length;
    const child = spawn(process.execPath, [MAIN, 'push', '--topic', 'sigint'], {
      env: { PATH: process.env.PATH ?? '', KPROXY_URL: fake.url, KPROXY_TOKEN: 'secret' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.write('one\ntwo\n');
    // Once the messages arrive the command is surely running (and has claimed Ctrl-C).
    while (fake.accepted.length === before) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted: pushed 2 messages');
    expect(
      fake.accepted.slice(before).flatMap((r) => r.messages.map((m) => Buffer.from(m).toString())),
    ).toEqual(['one', 'two']);
  });
});
