import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isValidTopicName, TOPIC_NAME_RULE } from '@kproxy/protocol';
import type { TokenRule } from './auth.js';
import {
  fileText,
  SETTINGS,
  type AckMode,
  type Compression,
  type SaslMechanism,
  type Setting,
  type SettingValues,
} from './settings.js';

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

const ALL: readonly Setting<unknown>[] = Object.values(SETTINGS);

/** `--help` text listing every flag with its environment variable, meaning and default. */
export function usage(): string {
  const lines = ALL.map((s) => {
    const left = `  --${s.flag}${s.boolean === true ? '' : ' <value>'}`;
    const fallback = s.default === undefined ? '' : ` (default ${s.default})`;
    return `${left.padEnd(36)} ${s.env}: ${s.help}${fallback}`;
  });
  return `Usage: kafka-proxy [options]\n\nEvery option can also be set by its environment variable; flags win.\n\n${lines.join('\n')}\n  --version                            print the version and exit\n  --help                               this text\n`;
}

/** Throws the ConfigError that names `setting` both ways, so the operator finds it either way. */
function fail(setting: Setting<unknown>, accepts: string, value?: string): never {
  const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
  throw new ConfigError(`${setting.env} (--${setting.flag}) must be ${accepts}${got}`);
}

type Raw = ReadonlyMap<string, string>;

/** Merges CLI flags over environment variables; flags win. Throws ConfigError on unknown flags. */
function collect(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): Raw {
  const raw = new Map<string, string>();
  for (const s of ALL) {
    const value = env[s.env];
    if (value !== undefined) raw.set(s.env, value);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        ALL.map((s) => [s.flag, { type: s.boolean === true ? 'boolean' : 'string' }] as const),
      ),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage()}`);
  }
  for (const s of ALL) {
    const value = values[s.flag];
    if (typeof value === 'string') raw.set(s.env, value);
    else if (value === true) raw.set(s.env, 'true');
  }
  return raw;
}

/** Every setting parsed on its own: its value, its default, or `undefined` when it has neither. */
function readSettings(raw: Raw): SettingValues {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const given = raw.get(setting.env);
    const trimmed = setting.keepSpaces === true ? given : given?.trim();
    const value = trimmed === '' && setting.keepSpaces !== true ? undefined : trimmed;
    const text = value ?? setting.default;
    values[name] =
      text === undefined
        ? undefined
        : setting.parse(text, (accepts, got) => fail(setting, accepts, got));
  }
  return values as SettingValues;
}

/** True when `argv` asks for the version. */
export function wantsVersion(argv: readonly string[]): boolean {
  return argv.includes('--version');
}

/** True when `argv` asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** The text of a file a setting names (`undefined` when not set); read at start, so it fails there. */
function readSettingFile(setting: Setting<unknown>, path: string | undefined): string | undefined {
  return path === undefined
    ? undefined
    : fileText(path, (accepts, got) => fail(setting, accepts, got));
}

/**
 * Reads the configuration from `env` and `argv` (flags win), validates every value, and returns
 * it frozen. Each setting is parsed by its entry in {@link SETTINGS}; what is checked here spans
 * settings. Files it names (tokens, TLS, CA) are read here so a bad path fails at start.
 *
 * @throws ConfigError naming the variable and what it accepts.
 * @example
 * const config = loadConfig(process.env, process.argv.slice(2));
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): Config {
  const v = readSettings(collect(env, argv));
  const warnings: string[] = [];
  if (v.flusherSocketPath !== undefined) {
    warnings.push(
      'KAFKA_FLUSHER_SOCKET_PATH is ignored: the flusher runs inside the server, there is no socket',
    );
  }

  const tokens: TokenRule[] = [];
  if (v.token !== undefined) tokens.push({ token: v.token });
  if (v.tokensFile !== undefined) tokens.push(...v.tokensFile);
  let generatedToken: string | undefined;
  if (tokens.length === 0) {
    if (!v.dev) {
      throw new ConfigError(
        'no token configured: set KAFKA_PROXY_TOKEN (--token) or KAFKA_PROXY_TOKENS_FILE (--tokens-file), or KAFKA_PROXY_DEV=true (--dev) to generate one for development',
      );
    }
    generatedToken = `dev-${randomBytes(18).toString('base64url')}`;
    tokens.push({ token: generatedToken });
  }

  if ((v.tlsCert === undefined) !== (v.tlsKey === undefined)) {
    fail(
      v.tlsCert === undefined ? SETTINGS.tlsCert : SETTINGS.tlsKey,
      'set together with its pair (KAFKA_PROXY_TLS_CERT and KAFKA_PROXY_TLS_KEY serve HTTPS only together)',
    );
  }

  let sasl: Config['kafka']['sasl'];
  if (v.kafkaSaslMechanism !== undefined) {
    const username =
      v.kafkaSaslUsername ?? fail(SETTINGS.kafkaSaslUsername, 'set when a SASL mechanism is');
    const password =
      v.kafkaSaslPassword ?? fail(SETTINGS.kafkaSaslPassword, 'set when a SASL mechanism is');
    sasl = { mechanism: v.kafkaSaslMechanism, username, password };
  }

  // A topic name as KAFKA_PROXY_FORCE_TOPIC (checked already) replaces KAFKA_PROXY_TOPIC.
  const initial = v.forceTopic.topic ?? v.topic;
  if (initial !== undefined && !isValidTopicName(initial)) {
    fail(SETTINGS.topic, `a topic name: ${TOPIC_NAME_RULE}`, initial);
  }

  if (v.maxBufferedBytes < v.maxBodyBytes) {
    fail(
      SETTINGS.maxBufferedBytes,
      `at least KAFKA_PROXY_MAX_BODY_BYTES (${v.maxBodyBytes}), or the largest request could never be accepted`,
      String(v.maxBufferedBytes),
    );
  }

  // A development server prints its token: it listens on loopback only unless told otherwise.
  const host = v.host ?? (v.dev ? '127.0.0.1' : undefined);
  let management: Config['management'];
  if (v.metricsPort !== undefined) {
    if (v.metricsPort !== 0 && v.metricsPort === v.port) {
      fail(
        SETTINGS.metricsPort,
        `another port than KAFKA_PROXY_PORT (${v.port}): the metrics port answers without a token`,
        String(v.metricsPort),
      );
    }
    management = { host: v.metricsHost ?? host, port: v.metricsPort };
  }

  const config: Config = {
    tokens,
    generatedToken,
    http: {
      host,
      port: v.port,
      tlsCert: readSettingFile(SETTINGS.tlsCert, v.tlsCert),
      tlsKey: readSettingFile(SETTINGS.tlsKey, v.tlsKey),
      requestTimeoutMs: v.requestTimeout,
    },
    management,
    kafka: {
      brokers: v.kafkaServer,
      clientId: v.kafkaClientId,
      compression: v.kafkaCompression,
      sasl,
      tls: v.kafkaTls || v.kafkaTlsCa !== undefined,
      tlsCa: v.kafkaTlsCa,
    },
    flusher: {
      maxMessages: v.flusherNumMessages,
      maxBytes: v.flusherMaxBytes,
      maxInFlight: v.flusherMaxInFlight,
      lingerMs: v.flusherTimeout,
    },
    topic: {
      initial,
      force: v.forceTopic.force,
      cacheFile: v.topicCache,
      store: v.topicStore,
      storeTopic: v.topicStoreTopic,
    },
    ackMode: v.ackMode,
    limits: {
      maxBodyBytes: v.maxBodyBytes,
      maxMessageBytes: v.maxMessageBytes,
      maxMessages: v.maxBodyMessages,
      maxBufferedBytes: v.maxBufferedBytes,
    },
    ackTimeoutMs: v.ackTimeout,
    shutdownTimeoutMs: v.shutdownTimeout,
    logLevel: v.logLevel,
    dev: v.dev,
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
