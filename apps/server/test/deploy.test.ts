// The packaging files say the same thing: the Dockerfile, the script that builds what it ships,
// the compose file and the Kubernetes manifests agree on ports, paths, probes and timeouts.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeFrames } from '@kproxy/framing';
import { randomBytes } from 'node:crypto';
import { createTopic, kafkaBrokers, readValues, uniqueTopic } from '@kproxy/testkit';
import { entryNodeOptions, spawnServer } from '@kproxy/testkit/proxy-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { registerReadCodecs } from './codecs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const run = promisify(execFile);
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions of the final stage (after the last FROM), in order. */
function finalStage(text: string): Instruction[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const all = lines.map((l) => {
    const [keyword = '', ...rest] = l.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
  const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
  return all.slice(lastFrom);
}

interface ImageSpec {
  env: Record<string, string>;
  workdir: string;
  cmd: string[];
  healthcheck: string[];
  user: string;
  expose: string[];
  volumes: string[];
  buildRuns: string[];
}

/** What the image runs, read from docker/Dockerfile. */
function imageSpec(): ImageSpec {
  const text = read('docker/Dockerfile');
  const stage = finalStage(text);
  const env: Record<string, string> = {};
  for (const { args } of stage.filter((i) => i.keyword === 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const one = (keyword: string): string => {
    const found = stage.filter((i) => i.keyword === keyword);
    if (found.length !== 1) throw new Error(`expected one ${keyword} in the final stage`);
    return found[0]?.args ?? '';
  };
  const healthcheck = one('HEALTHCHECK');
  const cmdAt = healthcheck.indexOf('CMD ');
  return {
    env,
    workdir: one('WORKDIR'),
    cmd: JSON.parse(one('CMD')) as string[],
    healthcheck: JSON.parse(healthcheck.slice(cmdAt + 4)) as string[],
    user: one('USER'),
    expose: one('EXPOSE').split(/\s+/),
    volumes: JSON.parse(one('VOLUME')) as string[],
    buildRuns: text
      .split('\n')
      .filter((l) => l.startsWith('RUN '))
      .map((l) => l.slice(4)),
  };
}

function yamlDocs(path: string): Record<string, unknown>[] {
  return parseAllDocuments(read(path)).map((d) => d.toJS() as Record<string, unknown>);
}

// Small typed accessors: the manifests are data, so the test walks them as such.
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => {
  if (typeof v !== 'object' || v === null) throw new Error(`expected an object, got ${String(v)}`);
  return v as Obj;
};
const arr = (v: unknown): unknown[] => {
  if (!Array.isArray(v)) throw new Error(`expected an array, got ${String(v)}`);
  return v;
};
const at = (v: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((cur, k) => (cur as Record<string | number, unknown> | undefined)?.[k], v);

describe('docker/Dockerfile', () => {
  const spec = imageSpec();
  const text = read('docker/Dockerfile');
  const buildScript = read('docker/build-server.sh');

  it('builds in one stage with the shared build script and ships only its output', () => {
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(spec.buildRuns).toContain(`bash docker/build-server.sh ${spec.workdir}`);
    expect(text).toMatch(new RegExp(`^COPY --from=build ${spec.workdir} ${spec.workdir}$`, 'm'));
  });

  it('starts node on the file the build script leaves, and checks health with a shipped script', () => {
    // With the Node options the entry point's #! line asks for, so the image runs as the bin does.
    const entry = join(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
    expect(entryNodeOptions(entry)).not.toEqual([]);
    expect(spec.cmd).toEqual(['node', ...entryNodeOptions(entry), 'dist/main.js']);
    expect(buildScript).toContain('"$staging/app/dist"');
    expect(spec.healthcheck).toEqual(['node', 'healthcheck.mjs']);
    expect(buildScript).toContain('docker/healthcheck.mjs" "$out/healthcheck.mjs"');
    expect(read('docker/healthcheck.mjs')).toContain("path: '/healthz'");
  });

  it('runs as a numeric non-root user, on the port it exposes, with the cache dir as a volume', () => {
    const [uid] = spec.user.split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(spec.expose).toEqual([spec.env.KAFKA_PROXY_PORT]);
    expect(spec.env.KAFKA_PROXY_PORT).toBe('8080');
    expect(spec.env.KAFKA_PROXY_HOST).toBe('0.0.0.0');
    const cache = spec.env.KAFKA_FLUSHER_TOPIC_CACHE ?? '';
    expect(spec.volumes).toEqual([posix.dirname(cache)]);
    expect(text).toContain(`chown ${spec.user} ${posix.dirname(cache)}`);
  });

  it('keeps host dependencies and secrets out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git', '.env']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe('docker/compose.yaml', () => {
  const compose = obj(parse(read('docker/compose.yaml')));
  const kafka = obj(at(compose, 'services', 'kafka'));
  const proxy = obj(at(compose, 'services', 'kafka-proxy'));
  const env = obj(proxy.environment);
  const image = imageSpec();

  it('runs Apache Kafka in KRaft mode with a health check', () => {
    expect(String(kafka.image)).toMatch(/^apache\/kafka:/);
    expect(at(kafka, 'environment', 'KAFKA_PROCESS_ROLES')).toBe('broker,controller');
    expect(arr(at(kafka, 'healthcheck', 'test')).join(' ')).toContain('--bootstrap-server');
  });

  it('builds the proxy from the Dockerfile and starts it once Kafka is healthy', () => {
    expect(at(proxy, 'build', 'dockerfile')).toBe('docker/Dockerfile');
    expect(at(proxy, 'build', 'context')).toBe('..');
    expect(at(proxy, 'depends_on', 'kafka', 'condition')).toBe('service_healthy');
    expect(env.KAFKA_PROXY_KAFKA_SERVER).toBe('kafka:9092');
    expect(String(at(kafka, 'environment', 'KAFKA_ADVERTISED_LISTENERS'))).toContain(
      'PLAINTEXT://kafka:9092',
    );
  });

  it('takes the token from the environment or docker/.env, never from the file itself', () => {
    expect(String(env.KAFKA_PROXY_TOKEN)).toMatch(/^\$\{KAFKA_PROXY_TOKEN:\?/);
    expect(read('docker/.env.example')).toMatch(/^KAFKA_PROXY_TOKEN=/m);
    expect(read('.gitignore').split('\n')).toContain('.env');
  });

  it('publishes port 8080 and keeps the topic cache in a named volume', () => {
    expect(arr(proxy.ports).map(String)).toEqual([
      `\${KAFKA_PROXY_PUBLISH:-127.0.0.1:8080}:${image.env.KAFKA_PROXY_PORT}`,
      `\${KAFKA_PROXY_METRICS_PUBLISH:-127.0.0.1:9464}:${String(env.KAFKA_PROXY_METRICS_PORT)}`,
    ]);
    const cacheDir = posix.dirname(image.env.KAFKA_FLUSHER_TOPIC_CACHE ?? '');
    expect(arr(proxy.volumes)).toContain(`topic-cache:${cacheDir}`);
    expect(Object.keys(obj(compose.volumes))).toContain('topic-cache');
  });

  it('gives a stop more time than the server takes to drain', () => {
    const grace = Number(String(proxy.stop_grace_period).replace(/s$/, ''));
    expect(grace).toBeGreaterThan(Number(env.KAFKA_PROXY_SHUTDOWN_TIMEOUT));
  });
});

describe('deploy/kubernetes', () => {
  const dir = 'deploy/kubernetes';
  const files = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml'));
  const docs = files.flatMap((f) => (f === 'kustomization.yaml' ? [] : yamlDocs(`${dir}/${f}`)));
  const kind = (k: string): Obj => {
    const found = docs.filter((d) => d.kind === k);
    if (found.length !== 1) throw new Error(`expected one ${k}, found ${found.length}`);
    return obj(found[0]);
  };
  const deployment = kind('Deployment');
  const configMap = obj(kind('ConfigMap').data);
  const pod = obj(at(deployment, 'spec', 'template', 'spec'));
  const containers = arr(pod.containers).map(obj);
  const container = obj(containers[0]);
  const podLabels = obj(at(deployment, 'spec', 'template', 'metadata', 'labels'));
  const matches = (selector: unknown): boolean =>
    Object.entries(obj(selector)).every(([k, v]) => podLabels[k] === v);

  it('lists every manifest in the kustomization', () => {
    const kustomization = obj(parse(read(`${dir}/kustomization.yaml`)));
    const listed = arr(kustomization.resources).map(String).sort();
    expect(listed).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('runs at least two replicas that share the default topic through Kafka', () => {
    expect(Number(at(deployment, 'spec', 'replicas'))).toBeGreaterThanOrEqual(2);
    expect(matches(at(deployment, 'spec', 'selector', 'matchLabels'))).toBe(true);
    expect(configMap.KAFKA_PROXY_TOPIC_STORE).toBe('kafka');
    const envFrom = arr(container.envFrom).map((e) => at(e, 'configMapRef', 'name'));
    expect(envFrom).toContain(at(kind('ConfigMap'), 'metadata', 'name'));
  });

  it('probes readiness on /readyz and liveness on /healthz at the container port', () => {
    const port = arr(container.ports).map(obj)[0];
    expect(port?.containerPort).toBe(8080);
    const env = arr(container.env).map(obj);
    expect(env.find((e) => e.name === 'KAFKA_PROXY_PORT')?.value).toBe('8080');
    expect(at(container, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
    expect(at(container, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');
    expect(at(container, 'readinessProbe', 'httpGet', 'port')).toBe(port?.name);
    expect(at(container, 'livenessProbe', 'httpGet', 'port')).toBe(port?.name);
  });

  it('sets resource requests and limits, with the heap below the memory limit', () => {
    for (const kindOf of ['requests', 'limits']) {
      expect(at(container, 'resources', kindOf, 'cpu')).toBeDefined();
      expect(at(container, 'resources', kindOf, 'memory')).toBeDefined();
    }
    const limitMi = Number(
      String(at(container, 'resources', 'limits', 'memory')).replace('Mi', ''),
    );
    const heapMi = Number(/--max-old-space-size=(\d+)/.exec(String(configMap.NODE_OPTIONS))?.[1]);
    const bufferedMi = Number(configMap.KAFKA_PROXY_MAX_BUFFERED_BYTES) / 2 ** 20;
    expect(heapMi).toBeGreaterThan(bufferedMi);
    expect(heapMi).toBeLessThan(limitMi);
  });

  it('runs non-root on a read-only root file system, writing only to mounted volumes', () => {
    expect(at(pod, 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(Number(at(pod, 'securityContext', 'runAsUser'))).toBeGreaterThan(0);
    expect(at(container, 'securityContext', 'readOnlyRootFilesystem')).toBe(true);
    expect(at(container, 'securityContext', 'allowPrivilegeEscalation')).toBe(false);
    const mounts = arr(container.volumeMounts).map(obj);
    const mounted = (path: string): boolean =>
      mounts.some((m) => path.startsWith(`${String(m.mountPath)}/`));
    expect(mounted(String(configMap.KAFKA_FLUSHER_TOPIC_CACHE))).toBe(true);
  });

  it('waits longer than the shutdown timeout plus the preStop sleep before killing a pod', () => {
    const sleep = arr(at(container, 'lifecycle', 'preStop', 'exec', 'command')).map(String);
    expect(sleep[0]).toBe('sleep');
    const grace = Number(pod.terminationGracePeriodSeconds);
    const shutdown = Number(configMap.KAFKA_PROXY_SHUTDOWN_TIMEOUT);
    expect(shutdown).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(shutdown + Number(sleep[1]));
  });

  it('mounts the token Secret as the tokens file', () => {
    const secret = kind('Secret');
    const tokensFile = String(configMap.KAFKA_PROXY_TOKENS_FILE);
    const volume = arr(pod.volumes)
      .map(obj)
      .find((v) => at(v, 'secret', 'secretName') === at(secret, 'metadata', 'name'));
    expect(volume).toBeDefined();
    const mount = arr(container.volumeMounts)
      .map(obj)
      .find((m) => m.name === volume?.name);
    expect(mount?.readOnly).toBe(true);
    expect(posix.dirname(tokensFile)).toBe(mount?.mountPath);
    expect(Object.keys(obj(secret.stringData))).toContain(posix.basename(tokensFile));
  });

  it('keeps a replica up through voluntary disruptions with a PodDisruptionBudget', () => {
    const pdb = kind('PodDisruptionBudget');
    expect(matches(at(pdb, 'spec', 'selector', 'matchLabels'))).toBe(true);
    const replicas = Number(at(deployment, 'spec', 'replicas'));
    const maxUnavailable = Number(at(pdb, 'spec', 'maxUnavailable'));
    expect(maxUnavailable).toBeGreaterThanOrEqual(1);
    expect(maxUnavailable).toBeLessThan(replicas);
  });

  it('serves metrics without a token on a named port the pods are annotated to be scraped on', () => {
    const metricsPort = arr(container.ports)
      .map(obj)
      .find((p) => p.name === 'metrics');
    const env = arr(container.env).map(obj);
    expect(Number(env.find((e) => e.name === 'KAFKA_PROXY_METRICS_PORT')?.value)).toBe(
      metricsPort?.containerPort,
    );
    const annotations = obj(at(deployment, 'spec', 'template', 'metadata', 'annotations'));
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(Number(annotations['prometheus.io/port'])).toBe(metricsPort?.containerPort);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    // The Service has the port a ServiceMonitor scrapes; the Ingress never routes to it.
    const service = kind('Service');
    const servicePorts = arr(at(service, 'spec', 'ports')).map(obj);
    expect(servicePorts.find((p) => p.name === 'metrics')?.targetPort).toBe('metrics');
    const ingress = kind('Ingress');
    expect(
      at(ingress, 'spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service', 'port', 'name'),
    ).toBe('http');
  });

  it('offers a ServiceMonitor, outside the default kustomization, on the Service metrics port', () => {
    const [monitor] = yamlDocs(`${dir}/prometheus-operator/servicemonitor.yaml`);
    expect(monitor?.kind).toBe('ServiceMonitor');
    const service = kind('Service');
    const selector = obj(at(monitor, 'spec', 'selector', 'matchLabels'));
    const serviceLabels = obj(at(service, 'metadata', 'labels'));
    expect(Object.entries(selector).every(([k, v]) => serviceLabels[k] === v)).toBe(true);
    const endpoint = obj(arr(at(monitor, 'spec', 'endpoints'))[0]);
    expect(endpoint.path).toBe('/metrics');
    const servicePorts = arr(at(service, 'spec', 'ports')).map(obj);
    expect(servicePorts.map((p) => p.name)).toContain(endpoint.port);
    expect(at(monitor, 'metadata', 'namespace')).toBe(
      at(parse(read(`${dir}/kustomization.yaml`)), 'namespace'),
    );
    const resources = arr(at(parse(read(`${dir}/kustomization.yaml`)), 'resources')).map(String);
    expect(resources.some((r) => r.includes('servicemonitor'))).toBe(false);
  });

  it('routes the Service and a TLS Ingress to the pods, allowing the largest body', () => {
    const service = kind('Service');
    expect(matches(at(service, 'spec', 'selector'))).toBe(true);
    const servicePort = obj(arr(at(service, 'spec', 'ports'))[0]);
    expect(servicePort.targetPort).toBe(arr(container.ports).map(obj)[0]?.name);

    const ingress = kind('Ingress');
    const backend = at(ingress, 'spec', 'rules', 0, 'http', 'paths', 0, 'backend', 'service');
    expect(at(backend, 'name')).toBe(at(service, 'metadata', 'name'));
    expect(at(backend, 'port', 'name')).toBe(servicePort.name);
    const tls = obj(arr(at(ingress, 'spec', 'tls'))[0]);
    expect(arr(tls.hosts)).toContain(at(ingress, 'spec', 'rules', 0, 'host'));
    expect(tls.secretName).toBeTypeOf('string');
    const bodySize = String(
      at(ingress, 'metadata', 'annotations', 'nginx.ingress.kubernetes.io/proxy-body-size'),
    );
    const bytes = Number(/^(\d+)m$/.exec(bodySize)?.[1]) * 2 ** 20;
    expect(bytes).toBeGreaterThanOrEqual(Number(configMap.KAFKA_PROXY_MAX_BODY_BYTES));
  });
});

// The oldest and the newest Kubernetes the manifests are supported on (docs/deploying.md).
const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'];

describe('deploy/kubernetes against the real Kubernetes schemas (kubernetes-validate --strict)', () => {
  const dir = join(root, 'deploy/kubernetes');
  const manifests = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .map((f) => join(dir, f));
  const resources = manifests.flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8'))).length;
  let validate = process.env.KPROXY_KUBERNETES_VALIDATE ?? '';
  let kustomize = process.env.KPROXY_KUSTOMIZE ?? '';
  let work: string;
  let rendered: string;

  beforeAll(async () => {
    if (!validate || !kustomize) {
      // Pinned tools in the cache; scripts/test.sh has usually installed them already.
      const { stdout } = await run('bash', [join(root, 'scripts/k8s-tools.sh')], {
        timeout: 600_000,
      });
      const tools = new Map(
        stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
      );
      validate = tools.get('KPROXY_KUBERNETES_VALIDATE') ?? '';
      kustomize = tools.get('KPROXY_KUSTOMIZE') ?? '';
    }
    work = await mkdtemp(join(tmpdir(), 'kafka-proxy-k8s-'));
    rendered = join(work, 'kustomized.yaml');
    const { stdout } = await run(kustomize, ['build', dir], { timeout: 60_000 });
    await writeFile(rendered, stdout);
  }, 600_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** kubernetes-validate's exit code and output; each resource it checked says `passed`. */
  const check = async (
    version: string,
    files: string[],
  ): Promise<{ code: number; out: string }> => {
    try {
      const { stdout, stderr } = await run(validate, ['--strict', '-k', version, ...files], {
        timeout: 60_000,
      });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };
  const passed = (out: string): number => out.match(/ passed for resource /g)?.length ?? 0;

  for (const version of KUBERNETES_VERSIONS) {
    it(`every manifest is valid for Kubernetes ${version}`, async () => {
      const { code, out } = await check(version, manifests);
      expect(code, out).toBe(0);
      // A kind without a schema is only a warning to the tool: every resource must have passed.
      expect(out).not.toContain('WARN');
      expect(passed(out), out).toBe(resources);
    });

    it(`the kustomize output is valid for Kubernetes ${version}`, async () => {
      const { code, out } = await check(version, [rendered]);
      expect(code, out).toBe(0);
      expect(out).not.toContain('WARN');
      expect(passed(out), out).toBe(resources);
    });
  }

  it('kustomize puts every resource in the namespace and sets the image', () => {
    const docs = parseAllDocuments(readFileSync(rendered, 'utf8')).map((d) => obj(d.toJS()));
    expect(docs).toHaveLength(resources);
    for (const doc of docs.filter((d) => d.kind !== 'Namespace')) {
      expect(at(doc, 'metadata', 'namespace'), String(doc.kind)).toBe('kafka-proxy');
    }
    const kustomization = obj(parse(read('deploy/kubernetes/kustomization.yaml')));
    const image = obj(arr(kustomization.images)[0]);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const container = obj(arr(at(deployment, 'spec', 'template', 'spec', 'containers'))[0]);
    expect(container.image).toBe(`${String(image.newName)}:${String(image.newTag)}`);
  });

  it('rejects a Deployment with a misspelled field, so a pass means something', async () => {
    const broken = join(work, 'broken.yaml');
    await writeFile(
      broken,
      read('deploy/kubernetes/deployment.yaml').replace('  replicas: 3', '  replica: 3'),
    );
    expect(read('deploy/kubernetes/deployment.yaml')).toContain('  replicas: 3');
    const { code, out } = await check(KUBERNETES_VERSIONS[0] ?? '', [broken]);
    expect(code, out).not.toBe(0);
    expect(out).toContain('replica');
  });
});

describe('the settings in the packaging files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafka-proxy-settings-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are all accepted by the server: Dockerfile, ConfigMap, Deployment env and Secret', async () => {
    const docs = readdirSync(join(root, 'deploy/kubernetes'))
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .flatMap((f) => yamlDocs(`deploy/kubernetes/${f}`));
    const data = obj(docs.find((d) => d.kind === 'ConfigMap')?.data);
    const secret = obj(docs.find((d) => d.kind === 'Secret')?.stringData);
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const container = obj(arr(at(deployment, 'spec', 'template', 'spec', 'containers'))[0]);
    const tokensFile = join(dir, 'tokens');
    await writeFile(tokensFile, String(secret.tokens));
    const env: Record<string, string> = { ...imageSpec().env };
    for (const [k, v] of Object.entries(data)) env[k] = String(v);
    for (const e of arr(container.env).map(obj)) env[String(e.name)] = String(e.value);
    env.KAFKA_PROXY_TOKENS_FILE = tokensFile; // the Secret's mount, here
    const config = loadConfig(env);
    expect(config.topic.store).toBe('kafka');
    expect(config.tokens.length).toBeGreaterThan(0);
    expect(config.shutdownTimeoutMs).toBe(Number(data.KAFKA_PROXY_SHUTDOWN_TIMEOUT) * 1000);
    expect(config.http.port).toBe(8080);
  });

  it('are all accepted by the server: compose with a token from docker/.env.example', () => {
    const proxy = obj(at(parse(read('docker/compose.yaml')), 'services', 'kafka-proxy'));
    const dotenv = Object.fromEntries(
      read('docker/.env.example')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    // Compose's ${VAR:-default} and ${VAR:?message} interpolation, enough for this file.
    const interpolate = (v: string): string =>
      v.replace(
        /\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g,
        (_, name: string, op?: string, arg?: string) => {
          const value = dotenv[name];
          if (value !== undefined && value !== '') return value;
          if (op === '?') throw new Error(`compose would refuse to start: ${arg ?? name}`);
          return arg ?? '';
        },
      );
    const env: Record<string, string> = { ...imageSpec().env };
    for (const [k, v] of Object.entries(obj(proxy.environment))) env[k] = interpolate(String(v));
    const config = loadConfig(env);
    expect(config.tokens).toHaveLength(1);
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
  });

  // Kafka's default `message.max.bytes` (broker) and `max.message.bytes` (topic): the largest
  // record batch, batch and record overhead included, a broker accepts unless told otherwise.
  const KAFKA_DEFAULT_MAX_BATCH_BYTES = 1_048_588;

  /** The environment each packaging file runs the server with (ports and paths aside). */
  function packagedEnvs(): Record<string, Record<string, string>> {
    const image = imageSpec().env;
    const docs = readdirSync(join(root, 'deploy/kubernetes'))
      .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
      .flatMap((f) => yamlDocs(`deploy/kubernetes/${f}`));
    const configMap = obj(docs.find((d) => d.kind === 'ConfigMap')?.data);
    const compose = obj(
      at(parse(read('docker/compose.yaml')), 'services', 'kafka-proxy', 'environment'),
    );
    // Compose's `${VAR:-default}`: the default, as docker/.env.example leaves these unset.
    const composeEnv = Object.fromEntries(
      Object.entries(compose).map(([k, v]) => [
        k,
        String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'),
      ]),
    );
    const asStrings = (o: Obj): Record<string, string> =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
    return {
      Dockerfile: { ...image },
      'deploy/kubernetes/configmap.yaml': { ...image, ...asStrings(configMap) },
      'docker/compose.yaml': { ...image, ...composeEnv },
    };
  }

  it('allow a largest message that Kafka with its default limits accepts: 200, read back whole', async () => {
    // The ConfigMap compresses with snappy, which the tests' consumer reads only with this.
    registerReadCodecs();
    for (const [file, packaged] of Object.entries(packagedEnvs())) {
      const env: Record<string, string> = {
        ...packaged,
        // What this machine provides instead of the cluster, the volume and the Secret.
        KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
        KAFKA_PROXY_HOST: '127.0.0.1',
        KAFKA_PROXY_PORT: '0',
        KAFKA_FLUSHER_TOPIC_CACHE: join(dir, `${file.replace(/\W/g, '-')}-topic`),
        KAFKA_PROXY_TOKEN: 'max-message-token',
        KAFKA_PROXY_TOPIC_STORE: 'file',
      };
      delete env.KAFKA_PROXY_TOKENS_FILE;
      const max = loadConfig(env).limits.maxMessageBytes;
      expect(max, file).toBeLessThan(KAFKA_DEFAULT_MAX_BATCH_BYTES);
      // The test broker allows more: the topic holds Kafka's default limit.
      const topic = await createTopic(uniqueTopic('max-message'), {
        config: { 'max.message.bytes': String(KAFKA_DEFAULT_MAX_BATCH_BYTES) },
      });
      env.KAFKA_PROXY_TOPIC = topic;
      const server = await spawnServer(env);
      try {
        await expect
          .poll(() => fetch(`${server.url}/readyz`).then((r) => r.status), { timeout: 30_000 })
          .toBe(200);
        // Random bytes: compression (snappy in the ConfigMap) cannot make them smaller.
        const message = randomBytes(max);
        const push = (bytes: Uint8Array): Promise<Response> =>
          fetch(`${server.url}/`, {
            method: 'POST',
            headers: {
              'x-kafka-proxy-token': 'max-message-token',
              'content-type': 'application/octet-stream',
            },
            body: encodeFrames([bytes]),
          });
        const res = await push(message);
        expect(`${file}: ${res.status} ${await res.text()}`).toBe(
          `${file}: 200 1 messages received`,
        );
        const tooLarge = await push(randomBytes(max + 1));
        expect(`${file}: ${tooLarge.status}`).toBe(`${file}: 413`);
        const [value] = await readValues(topic, 1);
        expect(value?.equals(message), file).toBe(true);
      } finally {
        await server.stop();
      }
    }
  }, 120_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe("the image's build output, started the way the image starts it", () => {
  const spec = imageSpec();
  let dir: string;
  let app: string;

  beforeAll(async () => {
    if (!existsSync(join(root, 'apps/server/dist/main.js'))) {
      throw new Error('apps/server/dist/main.js is missing: build the server first');
    }
    dir = await mkdtemp(join(tmpdir(), 'kafka-proxy-image-'));
    app = join(dir, 'app');
    // --no-build: the test task already built; rebuilding would rewrite dist/ under other tests.
    await run('bash', [join(root, 'docker/build-server.sh'), '--no-build', app], {
      timeout: 120_000,
    });
  }, 180_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the compiled server and production dependencies only', () => {
    expect(readdirSync(app).sort()).toEqual([
      'dist',
      'healthcheck.mjs',
      'node_modules',
      'package.json',
    ]);
    expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
    // Every production dependency of the server, whichever Kafka client it uses today.
    const manifest = JSON.parse(read('apps/server/package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies)) {
      expect(existsSync(join(app, 'node_modules', dep, 'package.json')), dep).toBe(true);
    }
    expect(existsSync(join(app, 'node_modules/@kproxy/framing/dist/index.js'))).toBe(true);
    const devOnly = Object.keys(manifest.devDependencies).filter((d) => !manifest.dependencies[d]);
    for (const dev of ['vitest', 'typescript', ...devOnly]) {
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('becomes ready against Kafka, passes its health check, serves, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const topic = await createTopic(uniqueTopic('image-test'));
    // The Dockerfile's ENV, plus only what `docker run -e` / a mounted volume would provide.
    const env = {
      PATH: process.env.PATH ?? '',
      ...spec.env,
      KAFKA_PROXY_PORT: String(port),
      KAFKA_FLUSHER_TOPIC_CACHE: join(dir, 'topic'),
      KAFKA_PROXY_KAFKA_SERVER: kafkaBrokers().join(','),
      KAFKA_PROXY_TOKEN: 'image-test-token',
      KAFKA_PROXY_TOPIC: topic,
    };
    const [command, ...args] = spec.cmd;
    expect(command).toBe('node');
    const child = spawn(process.execPath, args, {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const healthcheck = async (): Promise<number> => {
      const [hc, ...hcArgs] = spec.healthcheck;
      expect(hc).toBe('node');
      try {
        await run(process.execPath, hcArgs, { cwd: app, env, timeout: 10_000 });
        return 0;
      } catch (err) {
        return (err as { code?: number }).code ?? -1;
      }
    };
    try {
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status, output.join('')).toBe(200);
      expect(await healthcheck()).toBe(0);
      const res = await fetch(`${url}/`, {
        method: 'POST',
        headers: {
          'x-kafka-proxy-token': 'image-test-token',
          'content-type': 'application/octet-stream',
        },
        body: encodeFrames([new TextEncoder().encode('from the image build')]),
      });
      expect(`${res.status} ${await res.text()}`).toBe('200 1 messages received');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit, output.join('')).toBe(0);
    expect(await healthcheck()).toBe(1);
  });
});
