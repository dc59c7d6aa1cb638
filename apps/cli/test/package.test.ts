// Publishable: the packed tarballs install into an empty directory outside the repository and
// work there, the way a user gets them from a registry.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, readValues, uniqueTopic } from '@kproxy/testkit';
import { startProxy, type ProxyProcess } from '@kproxy/testkit/proxy-process';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['packages/framing', 'packages/client', 'apps/cli'];

let proxy: ProxyProcess;
let dir: string;
let app: string;
beforeAll(async () => {
  proxy = await startProxy({ brokers: kafkaBrokers() });
  dir = await mkdtemp(join(tmpdir(), 'kproxy-pack-'));
  const tarballs = join(dir, 'tarballs');
  for (const pkg of PACKAGES) {
    await exec('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(ROOT, pkg) });
  }
  app = join(dir, 'app');
  await exec('mkdir', ['-p', app]);
  await writeFile(
    join(app, 'package.json'),
    '{ "name": "app", "private": true, "type": "module" }',
  );
  const files = (await readdir(tarballs)).map((f) => join(tarballs, f));
  await exec('npm', ['install', '--no-audit', '--no-fund', ...files], { cwd: app });
}, 180_000);
afterAll(async () => {
  await proxy.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('depend on each other by version, not workspace:', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/@kproxy/client/package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@kproxy/framing']).toMatch(/^\^?\d+\.\d+\.\d+$/);
  });

  it('npx kproxy --help works', async () => {
    const { stdout } = await exec('npx', ['kproxy', '--help'], { cwd: app });
    expect(stdout).toContain('Usage: kproxy [options] [command]');
  });

  it('an ESM script imports @kproxy/client and sends a message to the server', async () => {
    const topic = uniqueTopic('packed');
    await createTopic(topic);
    await writeFile(
      join(app, 'send.mjs'),
      `import { KafkaProxyClient } from '@kproxy/client';
const client = new KafkaProxyClient({ url: process.env.KPROXY_URL, token: process.env.KPROXY_TOKEN });
const result = await client.send('from the packed SDK', { topic: process.argv[2] });
await client.close();
console.log(JSON.stringify(result));
`,
    );
    const { stdout } = await exec(process.execPath, ['send.mjs', topic], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', KPROXY_URL: proxy.url, KPROXY_TOKEN: proxy.token },
    });
    expect(JSON.parse(stdout)).toMatchObject({ topic, offset: '0', durable: true });
    expect((await readValues(topic, 1)).map(String)).toEqual(['from the packed SDK']);
  });

  it('the installed kproxy pushes to the server', async () => {
    const topic = uniqueTopic('packed-cli');
    await createTopic(topic);
    await exec('sh', ['-c', `printf 'a\\nb\\n' | npx kproxy push --topic ${topic}`], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', KPROXY_URL: proxy.url, KPROXY_TOKEN: proxy.token },
    });
    expect((await readValues(topic, 2)).map(String)).toEqual(['a', 'b']);
  });
});
