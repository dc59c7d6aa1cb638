// The packaging files say the same thing: the Dockerfile, the script that builds what it ships,
// the compose file and the Kubernetes manifests agree on ports, paths, probes and timeouts.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
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
    expect(spec.cmd).toEqual(['node', 'dist/main.js']);
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
