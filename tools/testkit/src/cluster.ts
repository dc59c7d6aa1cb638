import { parseBrokers, runKafkaScript } from './kafka-script.js';

export interface ClusterOptions {
  /** Number of nodes, each broker and controller; defaults to 3. */
  nodes?: number;
  /** kafka.sh cluster name; defaults to a name unique to this process. */
  name?: string;
}

export interface StopNodeOptions {
  /** SIGKILL (a crash: fenced after the 3 s session timeout) instead of a controlled shutdown. */
  kill?: boolean;
}

/** A cluster of its own started by `startCluster`, separate from the run's shared broker. */
export interface Cluster {
  name: string;
  /** Bootstrap servers of every node, node 1 first: `brokers[id - 1]` is node `id`. */
  brokers: string[];
  /** Stops node `id` (= its Kafka `node.id`, 1-based); resolves once its process is gone. */
  stopNode(id: number, options?: StopNodeOptions): Promise<void>;
  /** Restarts node `id` on its old ports and data; resolves once the cluster serves again. */
  startNode(id: number): Promise<void>;
  /** Stops every node and removes the cluster's data. */
  stop(): Promise<void>;
}

let clusters = 0;

/**
 * Starts a dedicated Kafka cluster with `scripts/kafka.sh up --nodes N` (three nodes: replication
 * factor 3, min.insync.replicas 2, fast fencing). Slow (tens of seconds on two cores): start it
 * in `beforeAll` and `stop()` it in `afterAll`. If the test process dies, kafka.sh's watchdog
 * stops the cluster.
 *
 * @example
 * const cluster = await startCluster({ nodes: 3 });
 * await cluster.stopNode(2);
 * await cluster.stop();
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  clusters += 1;
  const name = options.name ?? `cluster-${process.pid}-${clusters}`;
  const nodes = String(options.nodes ?? 3);
  // Fixed ports given for the run's shared broker must not be reused for this cluster.
  const { KAFKA_PORT: _port, KAFKA_CONTROLLER_PORT: _controllerPort, ...env } = process.env;
  const up = ['up', '--nodes', nodes, '--name', name, '--owner-pid', String(process.pid)];
  const stdout = await runKafkaScript(up, { env });
  const brokers = parseBrokers(stdout);
  return {
    name,
    brokers,
    async stopNode(id, stopOptions = {}) {
      const kill = stopOptions.kill ? ['--kill'] : [];
      await runKafkaScript(['stop-node', String(id), ...kill, '--name', name]);
    },
    async startNode(id) {
      await runKafkaScript(['start-node', String(id), '--name', name]);
    },
    async stop() {
      await runKafkaScript(['down', '--name', name]);
    },
  };
}
