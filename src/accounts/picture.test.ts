import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanPicture, detectType } from './picture.js';

function seg(marker: number, data: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

test('JPEG: APP1 (EXIF/XMP), APP13 and COM segments are dropped; JFIF and the scan stay', () => {
  const jpeg = Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xe0, Buffer.from('JFIF\0keep')),
    seg(0xe1, Buffer.from('Exif\0\0GPS 48.8566 N')),
    seg(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Author</x:xmpmeta>')),
    seg(0xed, Buffer.from('Photoshop 3.0 IPTC by-line')),
    seg(0xfe, Buffer.from('a comment with a name')),
    seg(0xdb, Buffer.from('quant-table')),
    seg(0xda, Buffer.from('scan-header')),
    Buffer.from('entropy-coded-bytes'),
    Buffer.from([0xff, 0xd9]),
  ]);
  const out = cleanPicture(jpeg);
  assert.ok(out.ok);
  assert.equal(out.type, 'image/jpeg');
  const s = out.body.toString('latin1');
  for (const gone of ['GPS', 'xmpmeta', 'IPTC', 'comment']) assert.ok(!s.includes(gone), gone);
  for (const kept of ['JFIF', 'quant-table', 'scan-header', 'entropy-coded-bytes']) assert.ok(s.includes(kept), kept);
});

test('WebP: EXIF and XMP chunks are dropped and the VP8X flags cleared; the RIFF size is fixed', () => {
  const chunk = (id: string, data: Buffer) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x0c | 0x10; // EXIF + XMP + alpha
  const body = Buffer.concat([chunk('VP8X', vp8x), chunk('VP8 ', Buffer.from('frame-data')), chunk('EXIF', Buffer.from('GPS secret')), chunk('XMP ', Buffer.from('<xmp>who</xmp>'))]);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length + 4, 4);
  head.write('WEBP', 8, 'latin1');
  const out = cleanPicture(Buffer.concat([head, body]));
  assert.ok(out.ok);
  assert.equal(out.type, 'image/webp');
  const s = out.body.toString('latin1');
  assert.ok(!s.includes('GPS secret') && !s.includes('<xmp>') && s.includes('frame-data'));
  assert.equal(out.body.readUInt32LE(4), out.body.length - 8);
  assert.equal((out.body[20] as number) & 0x0c, 0, 'flags cleared');
  assert.equal((out.body[20] as number) & 0x10, 0x10, 'other flags kept');
});

test('types come from magic bytes only; truncated files are refused', () => {
  assert.equal(detectType(Buffer.from('GIF89a...')), null);
  assert.equal(detectType(Buffer.from('<svg/>')), null);
  assert.deepEqual(cleanPicture(Buffer.from('<html></html>')), { ok: false, reason: 'type' });
  const truncatedPng = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  assert.deepEqual(cleanPicture(truncatedPng), { ok: false, reason: 'corrupt' });
});
