// The container's health check: GET /healthz on the proxy's own port, exit 0 on 200, 1 otherwise.
// Slim base images have no curl or wget, and node is there anyway. It reads the same environment
// variables as the server, so it follows KAFKA_PROXY_PORT and switches to HTTPS when the server
// serves TLS (the certificate is for the public name, not 127.0.0.1, so it is not verified here).
import http from 'node:http';
import https from 'node:https';

const env = process.env;
const tls = Boolean(env.KAFKA_PROXY_TLS_CERT);
const port = Number(env.KAFKA_PROXY_PORT || 8080);
const bound = env.KAFKA_PROXY_HOST;
const host = !bound || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;

const request = (tls ? https : http).get(
  { host, port, path: '/healthz', timeout: 2000, rejectUnauthorized: false },
  (response) => {
    response.resume();
    process.exit(response.statusCode === 200 ? 0 : 1);
  },
);
request.on('timeout', () => request.destroy(new Error('no answer within 2 s')));
request.on('error', (err) => {
  console.error(`health check failed: ${err.message}`);
  process.exit(1);
});
