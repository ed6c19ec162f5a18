// PNG files built chunk by chunk for the picture tests: real headers, chosen chunks, valid CRCs.
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** The signature and the given chunks, in order. */
export function pngFile(chunks: readonly (readonly [string, Buffer])[]): Buffer {
  return Buffer.concat([SIGNATURE, ...chunks.map(([type, data]) => pngChunk(type, data))]);
}

/** An IHDR for 8-bit pixels of the given colour type (2 RGB, 6 RGBA). */
export function pngHeader(width: number, height: number, colourType: 2 | 6): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, colourType, 0, 0, 0], 8);
  return ihdr;
}

/** A `side`×`side` RGB picture in one grey: a few kB to send, `side`² × 3 bytes to decode. */
export function flatPng(side: number, grey: number): Buffer {
  const row = Buffer.alloc(1 + side * 3, grey);
  row[0] = 0; // filter: none
  const pixels = deflateSync(Buffer.concat(Array.from({ length: side }, () => row)));
  return pngFile([
    ['IHDR', pngHeader(side, side, 2)],
    ['IDAT', pixels],
    ['IEND', Buffer.alloc(0)],
  ]);
}
