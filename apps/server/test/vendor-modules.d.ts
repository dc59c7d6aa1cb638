// Type declarations for the pure-JS compression packages, which ship none.
// kafkajs-snappy exports a factory of a kafkajs compression codec.
declare module 'kafkajs-snappy' {
  const createSnappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export default createSnappyCodec;
}

// lz4js ships no types: LZ4 frame compress/decompress on byte arrays.
declare module 'lz4js' {
  const lz4: {
    compress(input: Uint8Array): Uint8Array;
    decompress(input: Uint8Array): Uint8Array;
  };
  export default lz4;
}
