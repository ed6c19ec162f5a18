import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { pngChunk, pngFile, pngHeader } from '../../scripts/test-support/png.js';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { cleanPicture, detectType } from './picture.js';
import { PICTURE_MAX_BYTES, PICTURE_OUTPUT_BYTES, PICTURE_SIDE } from './picture-rules.js';

/** A PNG that declares its size and holds almost no pixel data (`withData`: one small IDAT, or none). */
function pngHeaderOnly(width: number, height: number, withData = true): Buffer {
  const data: [string, Buffer][] = withData ? [['IDAT', deflateSync(Buffer.alloc(1024))]] : [];
  return pngFile([['IHDR', pngHeader(width, height, 6)], ...data, ['IEND', Buffer.alloc(0)]]);
}

/** A photo-like picture: smooth gradients with some sensor noise. */
function photo(width: number, height: number, alpha = (_x: number, _y: number) => 255): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 17) - 8;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = Math.max(0, Math.min(255, ((x * 255) / width + noise()) | 0));
      data[i + 1] = Math.max(0, Math.min(255, ((y * 255) / height + noise()) | 0));
      data[i + 2] = Math.max(0, Math.min(255, 128 + 100 * Math.sin(x / 37 + y / 53) + noise()));
      data[i + 3] = alpha(x, y);
    }
  }
  return data;
}

/** An EXIF APP1 segment with an orientation tag and, as payload, GPS-like text. */
function exifSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x0112, 10);
  tiff.writeUInt16BE(3, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18);
  const data = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, Buffer.from('GPSLatitude 48.8566 N GPSLongitude 2.3522 E', 'latin1')]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

function jpegWithExif(width: number, height: number, orientation: number, quality = 90): Buffer {
  const plain = jpeg.encode({ width, height, data: photo(width, height) }, quality).data;
  return Buffer.concat([plain.subarray(0, 2), exifSegment(orientation), plain.subarray(2)]);
}

test('a PNG declaring enormous dimensions is refused from its header, fast and without allocating', () => {
  const bomb = pngHeaderOnly(100_000, 100_000);
  const before = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  assert.deepEqual(cleanPicture(bomb), { ok: false, error: 'dimensions' });
  assert.ok(performance.now() - started < 50, 'refused without decoding');
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no pixel buffer was allocated');
  assert.deepEqual(cleanPicture(pngHeaderOnly(8001, 10)), { ok: false, error: 'dimensions' }, 'too wide');
  assert.deepEqual(cleanPicture(pngHeaderOnly(5000, 4000)), { ok: false, error: 'dimensions' }, '20 megapixels');
  // Within the caps the header passes, and the missing pixel data makes it a damaged file.
  assert.deepEqual(cleanPicture(pngHeaderOnly(8000, 2000, false)), { ok: false, error: 'corrupt' });
});

test('a JPEG declaring enormous dimensions is refused from its frame header', () => {
  const small = jpeg.encode({ width: 16, height: 16, data: photo(16, 16) }, 80).data;
  const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(sof > 0);
  const big = Buffer.from(small);
  big.writeUInt16BE(60_000, sof + 5);
  big.writeUInt16BE(60_000, sof + 7);
  assert.deepEqual(cleanPicture(big), { ok: false, error: 'dimensions' });
});

test('a large photo becomes at most 512 px (aspect kept) and 100 KB, with its EXIF and GPS gone', () => {
  const upload = jpegWithExif(2400, 1600, 1, 92);
  assert.ok(upload.length > 4 * PICTURE_OUTPUT_BYTES && upload.length <= PICTURE_MAX_BYTES, `a large upload within the limit (${upload.length} bytes)`);
  const out = cleanPicture(upload);
  assert.ok(out.ok);
  assert.equal(out.value.type, 'image/jpeg');
  assert.ok(out.value.body.length <= PICTURE_OUTPUT_BYTES, `${out.value.body.length} bytes`);
  const back = jpeg.decode(out.value.body);
  assert.deepEqual([back.width, back.height], [PICTURE_SIDE, 341]);
  assert.deepEqual([out.value.width, out.value.height], [back.width, back.height]);
  const s = out.value.body.toString('latin1');
  for (const gone of ['Exif', 'GPS', '48.8566']) assert.ok(!s.includes(gone), gone);
  assert.equal(out.value.body.indexOf(Buffer.from([0xff, 0xe1])), -1, 'no APP1 segment');
  // The picture is still the picture: the left edge is dark red-free, the right edge red.
  const px = (x: number, y: number) => back.data[(y * back.width + x) * 4] as number;
  assert.ok(px(2, 170) < 40 && px(back.width - 3, 170) > 215);
});

test('an EXIF orientation is applied to the pixels, since the tag itself is dropped', () => {
  const out = cleanPicture(jpegWithExif(60, 20, 6));
  assert.ok(out.ok);
  const back = jpeg.decode(out.value.body);
  assert.deepEqual([back.width, back.height], [20, 60]);
  // Turned clockwise: the stored left edge (dark red) is now the top.
  const red = (x: number, y: number) => back.data[(y * back.width + x) * 4] as number;
  assert.ok(red(10, 1) < 40 && red(10, 58) > 200);
});

test('a transparent PNG stays a PNG, shrunk, with its text chunks gone', () => {
  // A logo: flat shapes on a transparent half.
  const png = new PNG({ width: 1000, height: 600 });
  for (let y = 0; y < 600; y++) {
    for (let x = 0; x < 1000; x++) {
      const i = (y * 1000 + x) * 4;
      png.data.set([(x >> 6) * 16, (y >> 6) * 24, 200, x < 500 ? 0 : 255], i);
    }
  }
  const encoded = PNG.sync.write(png);
  const iend = encoded.length - 12;
  const upload = Buffer.concat([encoded.subarray(0, iend), pngChunk('tEXt', Buffer.from('Author\0Jeanne Dupont, 12 rue de la Paix')), encoded.subarray(iend)]);
  const out = cleanPicture(upload);
  assert.ok(out.ok);
  assert.equal(out.value.type, 'image/png');
  assert.ok(out.value.body.length <= PICTURE_OUTPUT_BYTES);
  assert.ok(!out.value.body.toString('latin1').includes('Jeanne'));
  const back = PNG.sync.read(out.value.body);
  assert.deepEqual([back.width, back.height], [512, 307]);
  assert.equal(back.data[(100 * 512 + 10) * 4 + 3], 0, 'transparent half stays transparent');
  assert.equal(back.data[(100 * 512 + 500) * 4 + 3], 255);
});

test('a small picture keeps its size; WebP and other types are refused with their own reason', () => {
  const out = cleanPicture(jpegWithExif(40, 30, 1));
  assert.ok(out.ok);
  assert.deepEqual([out.value.width, out.value.height], [40, 30]);
  const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([30, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(22)]);
  assert.deepEqual(cleanPicture(webp), { ok: false, error: 'webp' });
  assert.equal(detectType(Buffer.from('GIF89a...')), null);
  assert.equal(detectType(Buffer.from('<svg/>')), null);
  assert.deepEqual(cleanPicture(Buffer.from('<html></html>')), { ok: false, error: 'type' });
  const truncatedPng = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  assert.deepEqual(cleanPicture(truncatedPng), { ok: false, error: 'corrupt' });
  const cut = jpegWithExif(200, 100, 1);
  assert.deepEqual(cleanPicture(cut.subarray(0, 300)), { ok: false, error: 'corrupt' });
});
