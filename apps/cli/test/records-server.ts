// A listening stand-in for the proxy's produce routes that keeps what `kproxy push` sent: the
// content type, the partition header and the records of each body (a framed body's messages
// as records without key or headers). Every request is answered 200, as in durable mode.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeFrames, decodeRecords, type ProxyRecord } from '@kproxy/framing';
import { CONTENT_TYPES, type ProduceReply } from '@kproxy/protocol';

export interface SentBody {
  path: string;
  headers: IncomingHttpHeaders;
  records: ProxyRecord[];
}

export interface RecordsServer {
  url: string;
  bodies: SentBody[];
  close(): Promise<void>;
}

export async function startRecordsServer(): Promise<RecordsServer> {
  const bodies: SentBody[] = [];
  let offset = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const records =
        req.headers['content-type'] === CONTENT_TYPES.records
          ? decodeRecords(body)
          : decodeFrames(body).map((value) => ({ key: null, value, headers: [], timestamp: null }));
      bodies.push({ path: req.url ?? '/', headers: req.headers, records });
      const reply: ProduceReply = {
        topic: 'default-topic',
        count: records.length,
        bytes: body.length,
        ack: 'durable',
        partition: 0,
        baseOffset: String(offset),
      };
      offset += records.length;
      res.writeHead(200, { 'content-type': CONTENT_TYPES.json });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
