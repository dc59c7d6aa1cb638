import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

describe('logging', () => {
  it('redacts credential headers if a log line ever includes them', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        headers: {
          'x-kafka-proxy-token': 'secret-1',
          authorization: 'Bearer secret-2',
          accept: '*/*',
        },
      },
      'x',
    );
    expect(JSON.stringify(lines)).not.toMatch(/secret-/);
    expect(lines[0]?.headers).toMatchObject({ accept: '*/*' });
  });
});
