// The `kafka-proxy` bin and `npm start` the way a user meets them: --version and --help, and a
// port that is taken or an address that is not this machine's, answered with the setting to
// change instead of a stack trace.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kafkaBrokers } from '@kproxy/testkit';
import { serverMain } from '@kproxy/testkit/proxy-process';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const server = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(server, '../..');
const main = serverMain(server);
const version = (
  JSON.parse(readFileSync(join(server, 'package.json'), 'utf8')) as { version: string }
).version;

/** Runs the bin (through its #! line, as a shell would) to its end. */
async function runBin(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(main, args, {
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('kafka-proxy --version and --help', () => {
  it('prints the version of its package.json and exits 0', async () => {
    const { code, stdout, stderr } = await runBin(['--version']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(`kafka-proxy ${version}\n`);
  });

  it('reads the version next to dist/ when it runs, not a copy compiled in', async () => {
    // The built server in another directory, with another version in its package.json.
    const dir = mkdtempSync(join(tmpdir(), 'kafka-proxy-version-'));
    try {
      cpSync(join(server, 'dist'), join(dir, 'dist'), { recursive: true });
      symlinkSync(join(server, 'node_modules'), join(dir, 'node_modules'));
      const manifest = JSON.parse(readFileSync(join(server, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, version: '9.8.7' }));
      const { stdout } = await run(process.execPath, [join(dir, 'dist/main.js'), '--version']);
      expect(stdout).toBe('kafka-proxy 9.8.7\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists --version in --help', async () => {
    const { code, stdout } = await runBin(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}--version +print the version and exit$/m);
  });
});

let occupied: Server | undefined;
afterEach(async () => {
  if (occupied) await new Promise((resolve) => occupied?.close(resolve));
  occupied = undefined;
});

/** A port something else listens on, as when another program already has 8080. */
async function busyPort(host = '127.0.0.1'): Promise<number> {
  // Reading what arrives, so a connection made to it (start.sh's readiness check) ends when its
  // client goes and close() does not wait for it forever.
  const s = createServer((socket) => socket.resume());
  occupied = s;
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  return (s.address() as AddressInfo).port;
}

/** The JSON lines a run logged on stdout. */
const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('kafka-proxy where it cannot listen', () => {
  const env = { KAFKA_PROXY_TOKEN: 't', KAFKA_PROXY_TOPIC: 'e', LOG_LEVEL: 'info' };

  it('names KAFKA_PROXY_PORT in one fatal line and exits 3 when the port is taken', async () => {
    const port = await busyPort();
    const { code, stdout, stderr } = await runBin([], {
      ...env,
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: String(port),
    });
    expect(code, stdout + stderr).toBe(3);
    const fatal = lines(stdout).filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toBe(
      `cannot listen on 127.0.0.1 port ${port}: the port is already in use; set KAFKA_PROXY_PORT (--port) to a free port`,
    );
    expect(stdout + stderr).not.toMatch(/\n\s+at /);
  });

  it('names KAFKA_PROXY_METRICS_PORT when the metrics port is taken', async () => {
    const port = await busyPort();
    const { code, stdout } = await runBin([], {
      ...env,
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      KAFKA_PROXY_HOST: '127.0.0.1',
      KAFKA_PROXY_PORT: '0',
      KAFKA_PROXY_METRICS_PORT: String(port),
    });
    expect(code, stdout).toBe(3);
    expect(
      lines(stdout)
        .filter((l) => l.level === 'fatal')
        .map((l) => l.msg),
    ).toEqual([
      `cannot listen on 127.0.0.1 port ${port}: the port is already in use; set KAFKA_PROXY_METRICS_PORT (--metrics-port) to a free port`,
    ]);
  });

  it('names KAFKA_PROXY_HOST when the address is not one of this machine', async () => {
    const { code, stdout } = await runBin([], {
      ...env,
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      // TEST-NET-3 (RFC 5737): never an address of this machine.
      KAFKA_PROXY_HOST: '203.0.113.1',
      KAFKA_PROXY_PORT: '0',
    });
    expect(code, stdout).toBe(3);
    const fatal = lines(stdout).filter((l) => l.level === 'fatal');
    expect(fatal.map((l) => l.msg)).toEqual([
      'cannot listen on 203.0.113.1 port 0: not an address of this machine; set KAFKA_PROXY_HOST (--host) to one of its addresses, or 0.0.0.0 for all',
    ]);
  });
});

/** Runs `npm start`'s script without its install and build, against the test run's Kafka. */
function startScript(env: Record<string, string>) {
  const child = spawn('bash', [join(root, 'scripts/start.sh'), '--no-build'], {
    cwd: root,
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, output: () => output };
}

describe('npm start (scripts/start.sh)', () => {
  it('says to set KAFKA_PROXY_PORT when the port is taken', async () => {
    const port = await busyPort();
    const start = startScript({ KAFKA_PROXY_PORT: String(port) });
    const code = await start.exited;
    expect(code, start.output()).not.toBe(0);
    expect(start.output()).toContain(
      `kafka-proxy cannot listen on 127.0.0.1 port ${port}: set KAFKA_PROXY_PORT to a free port`,
    );
    expect(start.output()).not.toContain('did not become ready');
  }, 60_000);

  it('listens on loopback only, so its printed token is not open to the network', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
    expect(external, 'this test needs a non-loopback IPv4 address').toBeDefined();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const start = startScript({ KAFKA_PROXY_PORT: String(port) });
    try {
      await expect
        .poll(() => start.output(), { timeout: 40_000, interval: 200 })
        .toContain('kafka-proxy is ready at http://127.0.0.1:');
      const connects = (host: string): Promise<boolean> =>
        new Promise((resolve) => {
          const socket = createConnection({ host, port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        });
      expect(await connects('127.0.0.1')).toBe(true);
      expect(await connects(external ?? '')).toBe(false);
    } finally {
      start.child.kill('SIGTERM');
    }
    expect(await start.exited, start.output()).toBe(0);
  }, 60_000);
});
