// Read-back codecs for kafkajs (the tests' consumer), which decodes only gzip by itself. Each
// (gzip's too, replaced here) counts the record batches it decompressed, so a test can tell that the proxy really compressed
// with the codec it was configured with: a batch sent uncompressed never reaches these.
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import kafkajs from 'kafkajs';
import createSnappyCodec from 'kafkajs-snappy';
import lz4 from 'lz4js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/** Record batches decompressed so far, by codec. */
export const decompressed: Record<'gzip' | 'snappy' | 'lz4' | 'zstd', number> = {
  gzip: 0,
  snappy: 0,
  lz4: 0,
  zstd: 0,
};

const snappy = createSnappyCodec();

function readOnly(
  name: keyof typeof decompressed,
  decompress: (b: Buffer) => Buffer | Promise<Buffer>,
) {
  return () => ({
    compress(): Promise<Buffer> {
      return Promise.reject(new Error(`${name}: the tests only read`));
    },
    async decompress(buffer: Buffer): Promise<Buffer> {
      decompressed[name] += 1;
      return decompress(buffer);
    },
  });
}

/** Registers the codecs with kafkajs; call once per test file that reads compressed batches. */
export function registerReadCodecs(): void {
  CompressionCodecs[CompressionTypes.GZIP] = readOnly('gzip', (b) => gunzipSync(b));
  CompressionCodecs[CompressionTypes.Snappy] = readOnly('snappy', (b) => snappy.decompress(b));
  CompressionCodecs[CompressionTypes.LZ4] = readOnly('lz4', (b) => Buffer.from(lz4.decompress(b)));
  CompressionCodecs[CompressionTypes.ZSTD] = readOnly('zstd', (b) => zstdDecompressSync(b));
}
