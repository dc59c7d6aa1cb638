import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, usage, wantsVersion } from './config.js';
import { SETTINGS } from './settings.js';

const base = { KAFKA_PROXY_TOKEN: 't', KAFKA_PROXY_TOPIC: 'events' };

describe('loadConfig', () => {
  it('applies the defaults the README gives and freezes the result', () => {
    const config = loadConfig(base);
    expect(config.http).toMatchObject({ port: 8080, requestTimeoutMs: 120_000 });
    expect(config.ackMode).toBe('durable');
    expect(config.kafka).toMatchObject({
      brokers: ['localhost:9092'],
      clientId: 'kafka-proxy',
      compression: 'none',
      sasl: undefined,
      tls: false,
    });
    expect(config.flusher).toEqual({
      maxMessages: 10_000,
      maxBytes: 1024 * 1024,
      maxInFlight: 2,
      lingerMs: 2,
    });
    expect(config.limits).toEqual({
      maxBodyBytes: 16 * 1024 * 1024,
      maxMessageBytes: 1_000_000,
      maxMessages: 200_000,
      maxBufferedBytes: 256 * 1024 * 1024,
    });
    expect(config.topic).toEqual({
      initial: 'events',
      force: false,
      cacheFile: undefined,
      store: 'file',
      storeTopic: '_kafka_proxy_topic',
    });
    expect(config).toMatchObject({ ackTimeoutMs: 10_000, shutdownTimeoutMs: 25_000 });
    expect(config).toMatchObject({ logLevel: 'info', dev: false, management: undefined });
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  it('keeps the spaces of a SASL password and requires the user name with a mechanism', () => {
    const sasl = { ...base, KAFKA_PROXY_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' };
    const config = loadConfig({
      ...sasl,
      KAFKA_PROXY_KAFKA_SASL_USERNAME: ' user ',
      KAFKA_PROXY_KAFKA_SASL_PASSWORD: ' pass ',
    });
    expect(config.kafka.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'user',
      password: ' pass ',
    });
    expect(() => loadConfig({ ...sasl, KAFKA_PROXY_KAFKA_SASL_USERNAME: 'u' })).toThrow(
      'KAFKA_PROXY_KAFKA_SASL_PASSWORD (--kafka-sasl-password) must be set when a SASL mechanism is',
    );
  });

  it('refuses a buffer bound below the body limit', () => {
    expect(() =>
      loadConfig({
        ...base,
        KAFKA_PROXY_MAX_BODY_BYTES: '1000',
        KAFKA_PROXY_MAX_BUFFERED_BYTES: '999',
      }),
    ).toThrow(/KAFKA_PROXY_MAX_BUFFERED_BYTES .*at least KAFKA_PROXY_MAX_BODY_BYTES \(1000\)/);
  });

  it('reads the original variable names, with fractional flusher seconds', () => {
    const config = loadConfig({
      ...base,
      KAFKA_PROXY_KAFKA_SERVER: 'k1:9092, k2:9093',
      KAFKA_FLUSHER_NUM_MESSAGES: '500',
      KAFKA_FLUSHER_TIMEOUT: '0.25',
      KAFKA_FLUSHER_TOPIC_CACHE: '/tmp/topic',
      KAFKA_FLUSHER_SOCKET_PATH: '/tmp/flusher.sock',
    });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.flusher).toMatchObject({ maxMessages: 500, lingerMs: 250 });
    expect(config.topic.cacheFile).toBe('/tmp/topic');
    expect(config.warnings.join()).toContain('KAFKA_FLUSHER_SOCKET_PATH');
  });

  it('lets CLI flags win over the environment', () => {
    const config = loadConfig({ ...base, KAFKA_PROXY_PORT: '1000' }, [
      '--port',
      '2000',
      '--kafka-server',
      'x:1',
    ]);
    expect(config.http.port).toBe(2000);
    expect(config.kafka.brokers).toEqual(['x:1']);
  });

  it('refuses to start without a token, unless development mode generates one', () => {
    expect(() => loadConfig({ KAFKA_PROXY_TOPIC: 'e' })).toThrow(/KAFKA_PROXY_TOKEN/);
    const dev = loadConfig({ KAFKA_PROXY_TOPIC: 'e', KAFKA_PROXY_DEV: 'true' });
    expect(dev.generatedToken).toMatch(/^dev-/);
    expect(dev.tokens).toEqual([{ token: dev.generatedToken }]);
  });

  it('listens on loopback only in development mode, unless KAFKA_PROXY_HOST says otherwise', () => {
    const dev = { KAFKA_PROXY_TOPIC: 'e', KAFKA_PROXY_DEV: 'true' };
    expect(loadConfig(dev).http.host).toBe('127.0.0.1');
    expect(loadConfig({ ...dev, KAFKA_PROXY_HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
    expect(loadConfig({ KAFKA_PROXY_TOKEN: 't' }).http.host).toBeUndefined();
  });

  it('opens the metrics port only when asked, on KAFKA_PROXY_HOST unless told otherwise', () => {
    expect(loadConfig(base).management).toBeUndefined();
    const on = loadConfig({
      ...base,
      KAFKA_PROXY_HOST: '10.0.0.5',
      KAFKA_PROXY_METRICS_PORT: '9464',
    });
    expect(on.management).toEqual({ host: '10.0.0.5', port: 9464 });
    const flags = loadConfig(base, ['--metrics-port', '9000', '--metrics-host', '127.0.0.1']);
    expect(flags.management).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => loadConfig({ ...base, KAFKA_PROXY_METRICS_PORT: '8080' })).toThrow(
      /KAFKA_PROXY_METRICS_PORT \(--metrics-port\) must be another port than KAFKA_PROXY_PORT/,
    );
    expect(() => loadConfig({ ...base, KAFKA_PROXY_METRICS_PORT: '70000' })).toThrow(
      /KAFKA_PROXY_METRICS_PORT .* from 0 to 65535/,
    );
  });

  it('lists --version in the usage text', () => {
    expect(usage()).toMatch(/^ {2}--version +print the version/m);
    expect(wantsVersion(['--version'])).toBe(true);
    expect(wantsVersion(['--port', '1'])).toBe(false);
  });

  it('lists every flag in the usage text with its variable and default', () => {
    const text = usage();
    expect(text).toMatch(/^ {2}--port <value> +KAFKA_PROXY_PORT: listen port \(default 8080\)$/m);
    expect(text).toMatch(/^ {2}--dev +KAFKA_PROXY_DEV: .*\(default false\)$/m);
    expect(text).toMatch(
      /^ {2}--flusher-timeout <value> +KAFKA_FLUSHER_TIMEOUT: .*\(default 0\.002\)$/m,
    );
    for (const setting of Object.values(SETTINGS)) {
      expect(text).toContain(`--${setting.flag}`);
      expect(text).toContain(`${setting.env}: `);
    }
  });

  it('refuses an unknown flag with the usage text', () => {
    expect(() => loadConfig(base, ['--prot', '1'])).toThrow(/--prot[\s\S]*Usage: kafka-proxy/);
  });

  it.each([
    ['KAFKA_PROXY_PORT', 'eighty', /KAFKA_PROXY_PORT \(--port\) must be a whole number/],
    ['KAFKA_FLUSHER_TIMEOUT', '-1', /KAFKA_FLUSHER_TIMEOUT .* seconds/],
    ['KAFKA_PROXY_ACK_MODE', 'fast', /KAFKA_PROXY_ACK_MODE .* durable, buffered/],
    [
      'KAFKA_PROXY_KAFKA_COMPRESSION',
      'brotli',
      /KAFKA_PROXY_KAFKA_COMPRESSION .*none, gzip, snappy, lz4, zstd/,
    ],
    ['KAFKA_FLUSHER_MAX_IN_FLIGHT', '6', /KAFKA_FLUSHER_MAX_IN_FLIGHT .*from 1 to 5/],
    ['KAFKA_PROXY_TOPIC_STORE', 'redis', /KAFKA_PROXY_TOPIC_STORE.*file, kafka/],
    ['KAFKA_PROXY_TOPIC', 'bad name', /KAFKA_PROXY_TOPIC .*topic name/],
    ['KAFKA_PROXY_KAFKA_SERVER', 'nohost', /host:port/],
    ['KAFKA_PROXY_TLS_CERT', '/x.pem', /KAFKA_PROXY_TLS_KEY/],
    ['KAFKA_PROXY_KAFKA_SASL_MECHANISM', 'plain', /KAFKA_PROXY_KAFKA_SASL_USERNAME/],
    ['KAFKA_PROXY_TOKENS_FILE', '/does/not/exist', /KAFKA_PROXY_TOKENS_FILE .*readable file/],
  ])('rejects %s=%s naming the variable and what it accepts', (name, value, message) => {
    const attempt = () => loadConfig({ ...base, [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('reads tokens with topic patterns from the tokens file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'tokens');
    await writeFile(file, 'a orders.*\nb\n');
    const config = loadConfig({ KAFKA_PROXY_TOPIC: 'e', KAFKA_PROXY_TOKENS_FILE: file });
    expect(config.tokens).toEqual([{ token: 'a', patterns: ['orders.*'] }, { token: 'b' }]);
  });

  it('accepts KAFKA_PROXY_FORCE_TOPIC as a flag or as the topic that wins', () => {
    expect(loadConfig({ ...base, KAFKA_PROXY_FORCE_TOPIC: 'true' }).topic).toMatchObject({
      initial: 'events',
      force: true,
    });
    expect(loadConfig({ ...base, KAFKA_PROXY_FORCE_TOPIC: 'pinned' }).topic).toMatchObject({
      initial: 'pinned',
      force: true,
    });
    expect(loadConfig({ ...base, KAFKA_PROXY_FORCE_TOPIC: 'false' }).topic.force).toBe(false);
  });
});

describe('the configuration table of apps/server/README.md', () => {
  const readme = readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '../README.md'),
    'utf8',
  );
  const section = readme.slice(readme.indexOf('## Configuration'));
  const rows = section
    .slice(0, section.indexOf('\n\n', section.indexOf('| variable')))
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|')[1] ?? '');

  it('lists every setting the server reads, and no other', () => {
    const listed = rows.flatMap((cell) =>
      [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]),
    );
    expect([...listed].sort()).toEqual(
      Object.values(SETTINGS)
        .map((s) => s.env)
        .sort(),
    );
  });

  it('names each flag it shows beside its own variable', () => {
    const byEnv = new Map(Object.values(SETTINGS).map((s) => [s.env, s.flag]));
    const shown = rows.flatMap((cell) =>
      [...cell.matchAll(/`([A-Z][A-Z0-9_]+)` \(`--([a-z-]+)`\)/g)].map((m) => [m[1], m[2]]),
    );
    expect(shown.length).toBeGreaterThan(0);
    for (const [env, flag] of shown) expect(byEnv.get(env ?? '')).toBe(flag);
  });
});
