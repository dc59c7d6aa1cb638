import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isValidTopicName, TOPIC_NAME_RULE } from '@kproxy/protocol';
import { parseTokensFile, type TokenRule } from './auth.js';

/** How a produce request is acknowledged (see "Delivery" in apps/server/README.md). */
export type AckMode = 'durable' | 'buffered';
/** Compression applied to record batches sent to Kafka. */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
/** SASL mechanisms the Kafka client supports. */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** The server's whole configuration: parsed once at start, validated, frozen. */
export interface Config {
  readonly tokens: readonly TokenRule[];
  /** Set when development mode generated a token because none was configured. */
  readonly generatedToken: string | undefined;
  readonly http: {
    readonly host: string | undefined;
    readonly port: number;
    readonly tlsCert: string | undefined;
    readonly tlsKey: string | undefined;
    /** Longest a request may take to arrive, headers and body (Node's `server.requestTimeout`). */
    readonly requestTimeoutMs: number;
  };
  /**
   * The management listener (apps/server/README.md): `/metrics`, `/healthz` and `/readyz` over plain HTTP
   * without a token, for scrapers and probes; undefined when no port is configured.
   */
  readonly management: { readonly host: string | undefined; readonly port: number } | undefined;
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly compression: Compression;
    readonly sasl:
      | { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string }
      | undefined;
    readonly tls: boolean;
    /** PEM text of the CA that signs the brokers' certificates (read at start). */
    readonly tlsCa: string | undefined;
  };
  readonly flusher: {
    readonly maxMessages: number;
    readonly maxBytes: number;
    readonly maxInFlight: number;
    readonly lingerMs: number;
  };
  readonly topic: {
    readonly initial: string | undefined;
    /** When true the initial topic wins over the cached one at start. */
    readonly force: boolean;
    readonly cacheFile: string | undefined;
    readonly store: 'file' | 'kafka';
    readonly storeTopic: string;
  };
  readonly ackMode: AckMode;
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxMessageBytes: number;
    readonly maxMessages: number;
    readonly maxBufferedBytes: number;
  };
  readonly ackTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  readonly dev: boolean;
  /** Things worth a warning at start (deprecated or ignored settings). */
  readonly warnings: readonly string[];
}

/** A configuration value was missing or invalid; `main` prints it and exits with code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Defaults; apps/server/README.md gives the reasoning behind each. */
export const DEFAULTS = {
  port: 8080,
  kafkaServer: 'localhost:9092',
  clientId: 'kafka-proxy',
  flusherNumMessages: 10_000,
  flusherMaxBytes: 1024 * 1024,
  flusherMaxInFlight: 2,
  flusherTimeoutSeconds: 0.002,
  maxBodyBytes: 16 * 1024 * 1024,
  maxMessageBytes: 1_000_000,
  maxBodyMessages: 200_000,
  maxBufferedBytes: 256 * 1024 * 1024,
  ackTimeoutSeconds: 10,
  requestTimeoutSeconds: 120,
  shutdownTimeoutSeconds: 25,
  storeTopic: '_kafka_proxy_topic',
  logLevel: 'info',
} as const;

interface OptionSpec {
  env: string;
  flag: string;
  kind: 'string' | 'boolean';
  help: string;
}

/** Every setting: its environment variable, the CLI flag that mirrors it, and what it means. */
export const OPTIONS: readonly OptionSpec[] = [
  { env: 'KAFKA_PROXY_TOKEN', flag: 'token', kind: 'string', help: 'token clients must send' },
  {
    env: 'KAFKA_PROXY_TOKENS_FILE',
    flag: 'tokens-file',
    kind: 'string',
    help: 'file of more tokens, each optionally limited to topic patterns',
  },
  {
    env: 'KAFKA_PROXY_KAFKA_SERVER',
    flag: 'kafka-server',
    kind: 'string',
    help: `Kafka bootstrap servers, comma-separated (default ${DEFAULTS.kafkaServer})`,
  },
  {
    env: 'KAFKA_FLUSHER_TOPIC_CACHE',
    flag: 'topic-cache',
    kind: 'string',
    help: 'file that remembers the default topic',
  },
  {
    env: 'KAFKA_FLUSHER_NUM_MESSAGES',
    flag: 'flusher-num-messages',
    kind: 'string',
    help: `flush after this many buffered messages (default ${DEFAULTS.flusherNumMessages})`,
  },
  {
    env: 'KAFKA_FLUSHER_MAX_BYTES',
    flag: 'flusher-max-bytes',
    kind: 'string',
    help: `flush after this many buffered bytes (default ${DEFAULTS.flusherMaxBytes})`,
  },
  {
    env: 'KAFKA_FLUSHER_MAX_IN_FLIGHT',
    flag: 'flusher-max-in-flight',
    kind: 'string',
    help: `batches sent to Kafka at once, 1 to 5 (default ${DEFAULTS.flusherMaxInFlight})`,
  },
  {
    env: 'KAFKA_FLUSHER_TIMEOUT',
    flag: 'flusher-timeout',
    kind: 'string',
    help: `flush this many seconds after the oldest buffered message (default ${DEFAULTS.flusherTimeoutSeconds})`,
  },
  {
    env: 'KAFKA_FLUSHER_SOCKET_PATH',
    flag: 'flusher-socket-path',
    kind: 'string',
    help: 'accepted and ignored: the flusher is built in',
  },
  {
    env: 'KAFKA_PROXY_TOPIC',
    flag: 'topic',
    kind: 'string',
    help: `initial default topic (${TOPIC_NAME_RULE})`,
  },
  {
    env: 'KAFKA_PROXY_FORCE_TOPIC',
    flag: 'force-topic',
    kind: 'string',
    help: 'true: the initial topic wins over the cached one; a topic name: that topic wins',
  },
  {
    env: 'KAFKA_PROXY_HOST',
    flag: 'host',
    kind: 'string',
    help: 'listen address (default: all interfaces; 127.0.0.1 in development mode)',
  },
  {
    env: 'KAFKA_PROXY_PORT',
    flag: 'port',
    kind: 'string',
    help: `listen port (default ${DEFAULTS.port})`,
  },
  {
    env: 'KAFKA_PROXY_METRICS_PORT',
    flag: 'metrics-port',
    kind: 'string',
    help: 'serve /metrics, /healthz and /readyz on this port too, plain HTTP, without a token (default: off)',
  },
  {
    env: 'KAFKA_PROXY_METRICS_HOST',
    flag: 'metrics-host',
    kind: 'string',
    help: 'listen address of the metrics port (default: KAFKA_PROXY_HOST)',
  },
  {
    env: 'KAFKA_PROXY_TLS_CERT',
    flag: 'tls-cert',
    kind: 'string',
    help: 'PEM certificate file: serve HTTPS',
  },
  {
    env: 'KAFKA_PROXY_TLS_KEY',
    flag: 'tls-key',
    kind: 'string',
    help: 'PEM private key file: serve HTTPS',
  },
  {
    env: 'KAFKA_PROXY_ACK_MODE',
    flag: 'ack-mode',
    kind: 'string',
    help: 'durable (default) or buffered',
  },
  {
    env: 'KAFKA_PROXY_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    kind: 'string',
    help: `largest decoded request body (default ${DEFAULTS.maxBodyBytes})`,
  },
  {
    env: 'KAFKA_PROXY_MAX_MESSAGE_BYTES',
    flag: 'max-message-bytes',
    kind: 'string',
    help: `largest message (default ${DEFAULTS.maxMessageBytes})`,
  },
  {
    env: 'KAFKA_PROXY_MAX_BODY_MESSAGES',
    flag: 'max-body-messages',
    kind: 'string',
    help: `most messages in one request body (default ${DEFAULTS.maxBodyMessages})`,
  },
  {
    env: 'KAFKA_PROXY_MAX_BUFFERED_BYTES',
    flag: 'max-buffered-bytes',
    kind: 'string',
    help: `bound on message bytes being received, buffered or in flight (default ${DEFAULTS.maxBufferedBytes})`,
  },
  {
    env: 'KAFKA_PROXY_ACK_TIMEOUT',
    flag: 'ack-timeout',
    kind: 'string',
    help: `seconds to wait for Kafka before answering 503 (default ${DEFAULTS.ackTimeoutSeconds})`,
  },
  {
    env: 'KAFKA_PROXY_REQUEST_TIMEOUT',
    flag: 'request-timeout',
    kind: 'string',
    help: `seconds a request (headers and body) may take to arrive (default ${DEFAULTS.requestTimeoutSeconds})`,
  },
  {
    env: 'KAFKA_PROXY_SHUTDOWN_TIMEOUT',
    flag: 'shutdown-timeout',
    kind: 'string',
    help: `seconds a graceful shutdown may take (default ${DEFAULTS.shutdownTimeoutSeconds})`,
  },
  {
    env: 'KAFKA_PROXY_KAFKA_COMPRESSION',
    flag: 'kafka-compression',
    kind: 'string',
    help: 'none (default), gzip, snappy, lz4 or zstd',
  },
  {
    env: 'KAFKA_PROXY_KAFKA_CLIENT_ID',
    flag: 'kafka-client-id',
    kind: 'string',
    help: `Kafka client id (default ${DEFAULTS.clientId})`,
  },
  {
    env: 'KAFKA_PROXY_KAFKA_SASL_MECHANISM',
    flag: 'kafka-sasl-mechanism',
    kind: 'string',
    help: 'plain, scram-sha-256 or scram-sha-512',
  },
  {
    env: 'KAFKA_PROXY_KAFKA_SASL_USERNAME',
    flag: 'kafka-sasl-username',
    kind: 'string',
    help: 'SASL user name',
  },
  {
    env: 'KAFKA_PROXY_KAFKA_SASL_PASSWORD',
    flag: 'kafka-sasl-password',
    kind: 'string',
    help: 'SASL password',
  },
  {
    env: 'KAFKA_PROXY_KAFKA_TLS',
    flag: 'kafka-tls',
    kind: 'string',
    help: 'true: connect to Kafka over TLS',
  },
  {
    env: 'KAFKA_PROXY_KAFKA_TLS_CA',
    flag: 'kafka-tls-ca',
    kind: 'string',
    help: 'PEM CA file for the brokers (implies --kafka-tls true)',
  },
  {
    env: 'KAFKA_PROXY_TOPIC_STORE',
    flag: 'topic-store',
    kind: 'string',
    help: 'file (default; one replica) or kafka (replicas share the default topic)',
  },
  {
    env: 'KAFKA_PROXY_TOPIC_STORE_TOPIC',
    flag: 'topic-store-topic',
    kind: 'string',
    help: `compacted topic of the kafka topic store (default ${DEFAULTS.storeTopic})`,
  },
  {
    env: 'KAFKA_PROXY_DEV',
    flag: 'dev',
    kind: 'boolean',
    help: 'development mode: generate and print a token when none is given',
  },
  {
    env: 'LOG_LEVEL',
    flag: 'log-level',
    kind: 'string',
    help: `fatal, error, warn, info (default), debug, trace or silent`,
  },
];

/** `--help` text listing every flag with its environment variable. */
export function usage(): string {
  const lines = OPTIONS.map((o) => {
    const left = `  --${o.flag}${o.kind === 'string' ? ' <value>' : ''}`;
    return `${left.padEnd(36)} ${o.env}: ${o.help}`;
  });
  return `Usage: kafka-proxy [options]\n\nEvery option can also be set by its environment variable; flags win.\n\n${lines.join('\n')}\n  --version                            print the version and exit\n  --help                               this text\n`;
}

const BOOLEAN_TRUE = new Set(['1', 'true', 'yes', 'on']);
const BOOLEAN_FALSE = new Set(['0', 'false', 'no', 'off', '']);

type Raw = ReadonlyMap<string, string>;

class Reader {
  constructor(private readonly values: Raw) {}

  /** The value exactly as given (passwords may have meaningful spaces). */
  raw(env: string): string | undefined {
    return this.values.get(env);
  }

  /** Names the setting both ways so the operator finds it whichever way they set it. */
  private name(env: string): string {
    const spec = OPTIONS.find((o) => o.env === env);
    return spec === undefined ? env : `${env} (--${spec.flag})`;
  }

  fail(env: string, accepts: string, value?: string): never {
    const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
    throw new ConfigError(`${this.name(env)} must be ${accepts}${got}`);
  }

  string(env: string): string | undefined {
    const value = this.values.get(env)?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  integer(env: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.string(env);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.fail(
        env,
        max === Number.MAX_SAFE_INTEGER
          ? `a whole number >= ${min}`
          : `a whole number from ${min} to ${max}`,
        value,
      );
    }
    return Number(value);
  }

  seconds(env: string, fallbackSeconds: number, allowZero: boolean): number {
    const value = this.string(env);
    if (value === undefined) return Math.round(fallbackSeconds * 1000);
    const n = Number(value);
    if (!/^\d*\.?\d+$/.test(value) || !Number.isFinite(n) || (!allowZero && n === 0)) {
      this.fail(
        env,
        `a number of seconds${allowZero ? ' >= 0' : ' > 0'} (fractions allowed)`,
        value,
      );
    }
    return n * 1000;
  }

  boolean(env: string): boolean {
    const value = (this.values.get(env) ?? '').trim().toLowerCase();
    if (BOOLEAN_TRUE.has(value)) return true;
    if (BOOLEAN_FALSE.has(value)) return false;
    return this.fail(env, 'true or false', value);
  }

  oneOf<T extends string>(env: string, choices: readonly T[], fallback: T): T {
    const value = this.string(env)?.toLowerCase();
    if (value === undefined) return fallback;
    if (!(choices as readonly string[]).includes(value)) {
      this.fail(env, `one of ${choices.join(', ')}`, value);
    }
    return value as T;
  }

  file(env: string): string | undefined {
    const path = this.string(env);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      return this.fail(env, 'a readable file', `${path}: ${(err as Error).message}`);
    }
  }
}

/** Merges CLI flags over environment variables; flags win. Throws ConfigError on unknown flags. */
function collect(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): Raw {
  const raw = new Map<string, string>();
  for (const o of OPTIONS) {
    const value = env[o.env];
    if (value !== undefined) raw.set(o.env, value);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: o.kind }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage()}`);
  }
  for (const o of OPTIONS) {
    const value = values[o.flag];
    if (typeof value === 'string') raw.set(o.env, value);
    else if (value === true) raw.set(o.env, 'true');
  }
  return raw;
}

/** True when `argv` asks for the version. */
export function wantsVersion(argv: readonly string[]): boolean {
  return argv.includes('--version');
}

/** True when `argv` asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Reads the configuration from `env` and `argv` (flags win), validates every value, and returns
 * it frozen. Files it names (tokens, TLS, CA) are read here so a bad path fails at start.
 *
 * @throws ConfigError naming the variable and what it accepts.
 * @example
 * const config = loadConfig(process.env, process.argv.slice(2));
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): Config {
  const r = new Reader(collect(env, argv));
  const warnings: string[] = [];

  if (r.string('KAFKA_FLUSHER_SOCKET_PATH') !== undefined) {
    warnings.push(
      'KAFKA_FLUSHER_SOCKET_PATH is ignored: the flusher runs inside the server, there is no socket',
    );
  }

  const dev = r.boolean('KAFKA_PROXY_DEV');
  const tokens: TokenRule[] = [];
  const single = r.string('KAFKA_PROXY_TOKEN');
  if (single !== undefined) tokens.push({ token: single });
  const tokensText = r.file('KAFKA_PROXY_TOKENS_FILE');
  if (tokensText !== undefined) {
    try {
      tokens.push(...parseTokensFile(tokensText));
    } catch (err) {
      r.fail(
        'KAFKA_PROXY_TOKENS_FILE',
        'a tokens file ("<token> [topic-pattern ...]" per line)',
        (err as Error).message,
      );
    }
  }
  let generatedToken: string | undefined;
  if (tokens.length === 0) {
    if (!dev) {
      throw new ConfigError(
        'no token configured: set KAFKA_PROXY_TOKEN (--token) or KAFKA_PROXY_TOKENS_FILE (--tokens-file), or KAFKA_PROXY_DEV=true (--dev) to generate one for development',
      );
    }
    generatedToken = `dev-${randomBytes(18).toString('base64url')}`;
    tokens.push({ token: generatedToken });
  }

  const tlsCertPath = r.string('KAFKA_PROXY_TLS_CERT');
  const tlsKeyPath = r.string('KAFKA_PROXY_TLS_KEY');
  if ((tlsCertPath === undefined) !== (tlsKeyPath === undefined)) {
    r.fail(
      tlsCertPath === undefined ? 'KAFKA_PROXY_TLS_CERT' : 'KAFKA_PROXY_TLS_KEY',
      'set together with its pair (KAFKA_PROXY_TLS_CERT and KAFKA_PROXY_TLS_KEY serve HTTPS only together)',
    );
  }

  const brokers = (r.string('KAFKA_PROXY_KAFKA_SERVER') ?? DEFAULTS.kafkaServer)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      r.fail('KAFKA_PROXY_KAFKA_SERVER', 'comma-separated host:port pairs', broker);
    }
  }
  if (brokers.length === 0) r.fail('KAFKA_PROXY_KAFKA_SERVER', 'comma-separated host:port pairs');

  const compression = r.oneOf<Compression>(
    'KAFKA_PROXY_KAFKA_COMPRESSION',
    ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    'none',
  );

  const saslMechanism = r.string('KAFKA_PROXY_KAFKA_SASL_MECHANISM');
  let sasl: Config['kafka']['sasl'];
  if (saslMechanism !== undefined) {
    const mechanism = r.oneOf<SaslMechanism>(
      'KAFKA_PROXY_KAFKA_SASL_MECHANISM',
      ['plain', 'scram-sha-256', 'scram-sha-512'],
      'plain',
    );
    const username =
      r.string('KAFKA_PROXY_KAFKA_SASL_USERNAME') ??
      r.fail('KAFKA_PROXY_KAFKA_SASL_USERNAME', 'set when a SASL mechanism is');
    const password =
      r.raw('KAFKA_PROXY_KAFKA_SASL_PASSWORD') ??
      r.fail('KAFKA_PROXY_KAFKA_SASL_PASSWORD', 'set when a SASL mechanism is');
    sasl = { mechanism, username, password };
  }
  const tlsCa = r.file('KAFKA_PROXY_KAFKA_TLS_CA');

  const forceRaw = r.string('KAFKA_PROXY_FORCE_TOPIC');
  let initial = r.string('KAFKA_PROXY_TOPIC');
  let force = false;
  if (forceRaw !== undefined) {
    const lowered = forceRaw.toLowerCase();
    if (BOOLEAN_TRUE.has(lowered)) force = true;
    else if (!BOOLEAN_FALSE.has(lowered)) {
      // The original also accepted a topic name here: that topic wins over the cache.
      if (!isValidTopicName(forceRaw)) {
        r.fail(
          'KAFKA_PROXY_FORCE_TOPIC',
          `true, false or a topic name (${TOPIC_NAME_RULE})`,
          forceRaw,
        );
      }
      initial = forceRaw;
      force = true;
    }
  }
  if (initial !== undefined && !isValidTopicName(initial)) {
    r.fail('KAFKA_PROXY_TOPIC', `a topic name: ${TOPIC_NAME_RULE}`, initial);
  }

  const store = r.oneOf<'file' | 'kafka'>('KAFKA_PROXY_TOPIC_STORE', ['file', 'kafka'], 'file');
  const storeTopic = r.string('KAFKA_PROXY_TOPIC_STORE_TOPIC') ?? DEFAULTS.storeTopic;
  if (!isValidTopicName(storeTopic)) {
    r.fail('KAFKA_PROXY_TOPIC_STORE_TOPIC', `a topic name: ${TOPIC_NAME_RULE}`, storeTopic);
  }

  const maxMessageBytes = r.integer('KAFKA_PROXY_MAX_MESSAGE_BYTES', DEFAULTS.maxMessageBytes, 1);
  const maxBodyBytes = r.integer('KAFKA_PROXY_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes, 4);
  const maxMessages = r.integer('KAFKA_PROXY_MAX_BODY_MESSAGES', DEFAULTS.maxBodyMessages, 1);
  const maxBufferedBytes = r.integer(
    'KAFKA_PROXY_MAX_BUFFERED_BYTES',
    DEFAULTS.maxBufferedBytes,
    1,
  );
  if (maxBufferedBytes < maxBodyBytes) {
    r.fail(
      'KAFKA_PROXY_MAX_BUFFERED_BYTES',
      `at least KAFKA_PROXY_MAX_BODY_BYTES (${maxBodyBytes}), or the largest request could never be accepted`,
      String(maxBufferedBytes),
    );
  }
  const logLevel = r.oneOf(
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    DEFAULTS.logLevel,
  );

  // A development server prints its token: it listens on loopback only unless told otherwise.
  const host = r.string('KAFKA_PROXY_HOST') ?? (dev ? '127.0.0.1' : undefined);
  const port = r.integer('KAFKA_PROXY_PORT', DEFAULTS.port, 0, 65535);
  let management: Config['management'];
  if (r.string('KAFKA_PROXY_METRICS_PORT') !== undefined) {
    const metricsPort = r.integer('KAFKA_PROXY_METRICS_PORT', 0, 0, 65535);
    if (metricsPort !== 0 && metricsPort === port) {
      r.fail(
        'KAFKA_PROXY_METRICS_PORT',
        `another port than KAFKA_PROXY_PORT (${port}): the metrics port answers without a token`,
        String(metricsPort),
      );
    }
    management = { host: r.string('KAFKA_PROXY_METRICS_HOST') ?? host, port: metricsPort };
  }

  const config: Config = {
    tokens,
    generatedToken,
    http: {
      host,
      port,
      tlsCert: tlsCertPath === undefined ? undefined : r.file('KAFKA_PROXY_TLS_CERT'),
      tlsKey: tlsKeyPath === undefined ? undefined : r.file('KAFKA_PROXY_TLS_KEY'),
      requestTimeoutMs: r.seconds(
        'KAFKA_PROXY_REQUEST_TIMEOUT',
        DEFAULTS.requestTimeoutSeconds,
        false,
      ),
    },
    management,
    kafka: {
      brokers,
      clientId: r.string('KAFKA_PROXY_KAFKA_CLIENT_ID') ?? DEFAULTS.clientId,
      compression,
      sasl,
      tls: r.boolean('KAFKA_PROXY_KAFKA_TLS') || tlsCa !== undefined,
      tlsCa,
    },
    flusher: {
      maxMessages: r.integer('KAFKA_FLUSHER_NUM_MESSAGES', DEFAULTS.flusherNumMessages, 1),
      maxBytes: r.integer('KAFKA_FLUSHER_MAX_BYTES', DEFAULTS.flusherMaxBytes, 1),
      maxInFlight: r.integer('KAFKA_FLUSHER_MAX_IN_FLIGHT', DEFAULTS.flusherMaxInFlight, 1, 5),
      lingerMs: r.seconds('KAFKA_FLUSHER_TIMEOUT', DEFAULTS.flusherTimeoutSeconds, true),
    },
    topic: {
      initial,
      force,
      cacheFile: r.string('KAFKA_FLUSHER_TOPIC_CACHE'),
      store,
      storeTopic,
    },
    ackMode: r.oneOf<AckMode>('KAFKA_PROXY_ACK_MODE', ['durable', 'buffered'], 'durable'),
    limits: { maxBodyBytes, maxMessageBytes, maxMessages, maxBufferedBytes },
    ackTimeoutMs: r.seconds('KAFKA_PROXY_ACK_TIMEOUT', DEFAULTS.ackTimeoutSeconds, false),
    shutdownTimeoutMs: r.seconds(
      'KAFKA_PROXY_SHUTDOWN_TIMEOUT',
      DEFAULTS.shutdownTimeoutSeconds,
      false,
    ),
    logLevel,
    dev,
    warnings,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
