import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, loadConfig, usage, wantsVersion } from './config.js';

const base = { KAFKA_PROXY_TOKEN: 't', KAFKA_PROXY_TOPIC: 'events' };

describe('loadConfig', () => {
  it('applies the defaults and freezes the result', () => {
    const config = loadConfig(base);
    expect(config.http.port).toBe(8080);
    expect(config.ackMode).toBe('durable');
    expect(config.kafka.brokers).toEqual(['localhost:9092']);
    expect(config.flusher.maxMessages).toBe(DEFAULTS.flusherNumMessages);
    expect(Object.isFrozen(config.limits)).toBe(true);
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
