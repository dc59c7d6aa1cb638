// Picks TCP ports on 127.0.0.1 for scripts/kafka.sh.
//
//   node ports.mjs pick COUNT [RESERVED...]   prints COUNT distinct free ports
//   node ports.mjs check PORT...              exits 1 naming the first port that is taken
//
// Ports are drawn at random below Linux's ephemeral range (32768+), so a port chosen now is not
// handed to some outgoing connection before the broker binds it. RESERVED are ports that other
// clusters of kafka.sh own (even if they are not listening yet); the caller holds a lock while it
// picks and records them, so two clusters started at the same moment never get the same port.
import net from 'node:net';

const LOW = 20000;
const HIGH = 32000;

/** Resolves to an open server when the port can be bound, to undefined when it cannot. */
function tryBind(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

async function pick(count, reserved) {
  const held = [];
  const tried = new Set(reserved);
  try {
    while (held.length < count) {
      if (tried.size >= HIGH - LOW) throw new Error('no free port left');
      const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
      if (tried.has(port)) continue;
      tried.add(port);
      const server = await tryBind(port);
      if (server) held.push({ port, server });
    }
    return held.map((h) => h.port);
  } finally {
    await Promise.all(held.map((h) => new Promise((resolve) => h.server.close(resolve))));
  }
}

async function check(ports) {
  for (const port of ports) {
    const server = await tryBind(port);
    if (!server) return port;
    await new Promise((resolve) => server.close(resolve));
  }
  return undefined;
}

const [command, ...args] = process.argv.slice(2);
const numbers = args.map(Number);
if (numbers.some((n) => !Number.isInteger(n) || n < 0 || n > 65535)) {
  console.error(`ports.mjs: not a port number in: ${args.join(' ')}`);
  process.exit(2);
}
if (command === 'pick') {
  const [count = 1, ...reserved] = numbers;
  console.log((await pick(count, reserved)).join(' '));
} else if (command === 'check') {
  const taken = await check(numbers);
  if (taken !== undefined) {
    console.log(taken);
    process.exit(1);
  }
} else {
  console.error('usage: node ports.mjs pick COUNT [RESERVED...] | check PORT...');
  process.exit(2);
}
