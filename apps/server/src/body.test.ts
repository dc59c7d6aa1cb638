import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { encodeFrames } from '@kproxy/framing';
import { describe, expect, it } from 'vitest';
import { bodyFormat, MESSAGE_OVERHEAD_BYTES, readFramedBody } from './body.js';
import { BufferBudget } from './buffer-budget.js';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

const limits = { maxBodyBytes: 1 << 20, maxMessageBytes: 1 << 16, maxMessages: 1000 };

describe('readFramedBody', () => {
  it('decodes frames split across chunks anywhere', async () => {
    const body = encodeFrames(['hello', '', 'world!'].map((s) => new TextEncoder().encode(s)));
    const chunks = Array.from(body, (byte) => Uint8Array.of(byte));
    const result = await readFramedBody(
      streamOf(chunks),
      new Headers(),
      limits,
      new BufferBudget(1 << 20).reserve(),
    );
    expect(result.messages.map((m) => Buffer.from(m as Uint8Array).toString())).toEqual([
      'hello',
      '',
      'world!',
    ]);
    expect(result.bytes).toBe(11);
  });

  it('reserves message bytes against the buffer bound while reading', async () => {
    const budget = new BufferBudget(100);
    const body = encodeFrames([new Uint8Array(60), new Uint8Array(60)]);
    await expect(
      readFramedBody(streamOf([body]), new Headers(), limits, budget.reserve()),
    ).rejects.toMatchObject({ code: 'buffer_full', status: 503 });
  });

  it('gives back the bytes of a body it rejects', async () => {
    const budget = new BufferBudget(1 << 20);
    const truncated = encodeFrames([new Uint8Array(60), new Uint8Array(60)]).subarray(0, 100);
    await expect(
      readFramedBody(streamOf([truncated]), new Headers(), limits, budget.reserve()),
    ).rejects.toMatchObject({ code: 'truncated_frame', status: 400 });
    expect(budget.used).toBe(0);
  });

  it('cancels a web stream it stops reading early', async () => {
    let cancelled = false;
    const frame = encodeFrames([new Uint8Array(1000)]);
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(frame);
      },
      cancel() {
        cancelled = true;
      },
    });
    const small = { maxBodyBytes: 4096, maxMessageBytes: 1 << 20, maxMessages: 1000 };
    await expect(
      readFramedBody(source, new Headers(), small, new BufferBudget(1 << 20).reserve()),
    ).rejects.toMatchObject({ code: 'body_too_large', status: 413 });
    expect(cancelled).toBe(true);
  });

  it('tells the body formats apart by Content-Type, and refuses any other with 415', () => {
    const anyRoute = { json: false };
    expect(bodyFormat('application/octet-stream; charset=binary', anyRoute)).toBe('frames');
    expect(bodyFormat('Application/Octet-Stream', anyRoute)).toBe('frames');
    expect(bodyFormat('application/vnd.kafka-proxy.records.v1', anyRoute)).toBe('records');
    expect(bodyFormat('application/vnd.kafka.binary.v2+json', { json: true })).toBe('binary');
    expect(bodyFormat('application/vnd.kafka.json.v2+json', { json: true })).toBe('json');
    expect(bodyFormat('Application/Vnd.Kafka.Json.V2+Json; charset=utf-8', { json: true })).toBe(
      'json',
    );
    expect(() => bodyFormat('application/json', { json: true })).toThrow(
      expect.objectContaining({ code: 'unsupported_media_type', status: 415 }),
    );
    expect(() => bodyFormat('text/plain', anyRoute)).toThrow(
      expect.objectContaining({ code: 'unsupported_media_type', status: 415 }),
    );
    expect(() => bodyFormat('application/vnd.kafka.json.v2+json', anyRoute)).toThrow(
      /POST \/topics\/\{topic\} only/,
    );
    expect(() => bodyFormat(undefined, anyRoute)).toThrow(/got none/);
    expect(() => bodyFormat('constructor', anyRoute)).toThrow(/must be application\/octet-stream/);
  });

  it('refuses a body of more messages than the limit, even empty ones, with 413', async () => {
    const empties = new Uint8Array(4 * 1001); // 1001 empty frames
    await expect(
      readFramedBody(
        streamOf([empties]),
        new Headers(),
        limits,
        new BufferBudget(1 << 20).reserve(),
      ),
    ).rejects.toMatchObject({ code: 'too_many_messages', status: 413 });
  });

  it('charges empty messages against the buffer bound', async () => {
    const budget = new BufferBudget(1 << 20);
    const reservation = budget.reserve();
    await readFramedBody(streamOf([new Uint8Array(4 * 100)]), new Headers(), limits, reservation);
    expect(reservation.bytes).toBe(4 * 100 + 100 * MESSAGE_OVERHEAD_BYTES);
    const small = new BufferBudget(4 * 100 + 99 * MESSAGE_OVERHEAD_BYTES);
    await expect(
      readFramedBody(streamOf([new Uint8Array(4 * 100)]), new Headers(), limits, small.reserve()),
    ).rejects.toMatchObject({ code: 'buffer_full', status: 503 });
  });

  it('charges a frame still arriving, before it is complete', async () => {
    // Half of a 1 MB frame: already more than the bound allows, so the upload is refused at once.
    const frame = encodeFrames([new Uint8Array(1_000_000)]);
    let pulled = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(frame.subarray((pulled - 1) * 500_000, pulled * 500_000));
      },
    });
    const large = { maxBodyBytes: 4 << 20, maxMessageBytes: 1 << 20, maxMessages: 1000 };
    await expect(
      readFramedBody(source, new Headers(), large, new BufferBudget(400_000).reserve()),
    ).rejects.toMatchObject({ code: 'buffer_full', status: 503 });
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it('charges a frame reassembled from pieces of several chunks for its copy', async () => {
    const frame = encodeFrames([new Uint8Array(1000).fill(1)]);
    const reservation = new BufferBudget(1 << 20).reserve();
    const { messages } = await readFramedBody(
      streamOf([frame.subarray(0, 600), frame.subarray(600)]),
      new Headers(),
      limits,
      reservation,
    );
    expect(messages).toEqual([new Uint8Array(1000).fill(1)]);
    expect(reservation.bytes).toBe(frame.byteLength + 1000 + MESSAGE_OVERHEAD_BYTES);
  });

  it('stops reading a compressed body at the decoded limit', async () => {
    let pulled = 0;
    const bomb = gzipSync(new Uint8Array(128 * 1024 * 1024));
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bomb.length; i += 1024) pieces.push(bomb.subarray(i, i + 1024));
    const total = pieces.length;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = pieces.shift();
        if (next === undefined) controller.close();
        else {
          pulled += 1;
          controller.enqueue(next);
        }
      },
    });
    await expect(
      readFramedBody(
        source,
        new Headers({ 'content-encoding': 'gzip' }),
        { maxBodyBytes: 1 << 20, maxMessageBytes: 1 << 30, maxMessages: 1 << 30 },
        new BufferBudget(1 << 30).reserve(),
      ),
    ).rejects.toMatchObject({ code: 'body_too_large', status: 413 });
    expect(pulled).toBeLessThan(total / 4);
  });
});

describe('readFramedBody when the upload breaks', () => {
  it('reports an interrupted upload as a client error (400), not a server error', async () => {
    const budget = new BufferBudget(1 << 20);
    const reservation = budget.reserve();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encodeFrames([new Uint8Array(10)]));
        controller.error(new Error('aborted'));
      },
    });
    await expect(readFramedBody(body, new Headers(), limits, reservation)).rejects.toMatchObject({
      code: 'bad_request',
      status: 400,
    });
  });
});

describe('readFramedBody from a Node stream (the request under @hono/node-server)', () => {
  it('decodes frames split across chunks', async () => {
    const body = encodeFrames(['hello', 'world!'].map((s) => new TextEncoder().encode(s)));
    const chunks = Array.from(body, (byte) => Buffer.of(byte));
    const result = await readFramedBody(
      Readable.from(chunks),
      new Headers(),
      limits,
      new BufferBudget(1 << 20).reserve(),
    );
    expect(result.messages.map((m) => Buffer.from(m as Uint8Array).toString())).toEqual([
      'hello',
      'world!',
    ]);
    expect(result.bytes).toBe(11);
  });

  it('leaves the stream open when it rejects the body early, so the response can still be sent', async () => {
    const source = new Readable({ read() {} });
    source.push(encodeFrames([new Uint8Array(100)]));
    await expect(
      readFramedBody(
        source,
        new Headers(),
        { maxBodyBytes: 50, maxMessageBytes: 1 << 16, maxMessages: 1000 },
        new BufferBudget(1 << 20).reserve(),
      ),
    ).rejects.toMatchObject({ code: 'body_too_large', status: 413 });
    expect(source.destroyed).toBe(false);
    source.destroy();
  });

  it('reports an interrupted upload as a client error (400)', async () => {
    const source = new Readable({ read() {} });
    source.push(encodeFrames([new Uint8Array(10)]));
    setImmediate(() => source.destroy(new Error('aborted')));
    await expect(
      readFramedBody(source, new Headers(), limits, new BufferBudget(1 << 20).reserve()),
    ).rejects.toMatchObject({ code: 'bad_request', status: 400 });
  });
});
