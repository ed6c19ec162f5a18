/**
 * Profile pictures: the type is read from the magic bytes (never from the file name or the
 * browser's Content-Type), and metadata that can carry personal data (EXIF with GPS, XMP,
 * comments, text chunks, timestamps) is removed before the picture is stored. Pure: no I/O.
 */

export const PICTURE_MAX_BYTES = 2 * 1024 * 1024;

export type PictureType = 'image/png' | 'image/jpeg' | 'image/webp';

export type PictureResult = { ok: true; type: PictureType; body: Buffer } | { ok: false; reason: 'type' | 'corrupt' };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image type by its first bytes, or null for anything else. */
export function detectType(buf: Buffer): PictureType | null {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** Checks an uploaded picture and returns it without metadata. */
export function cleanPicture(buf: Buffer): PictureResult {
  const type = detectType(buf);
  if (!type) return { ok: false, reason: 'type' };
  const body = type === 'image/png' ? stripPng(buf) : type === 'image/jpeg' ? stripJpeg(buf) : stripWebp(buf);
  return body ? { ok: true, type, body } : { ok: false, reason: 'corrupt' };
}

const PNG_DROP = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

function stripPng(buf: Buffer): Buffer | null {
  const parts: Buffer[] = [PNG_SIGNATURE];
  let pos = 8;
  let sawEnd = false;
  while (pos + 12 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + len;
    if (end > buf.length || !/^[A-Za-z]{4}$/.test(type)) return null;
    if (!PNG_DROP.has(type)) parts.push(buf.subarray(pos, end));
    pos = end;
    if (type === 'IEND') {
      sawEnd = true;
      break;
    }
  }
  return sawEnd ? Buffer.concat(parts) : null;
}

function stripJpeg(buf: Buffer): Buffer | null {
  const parts: Buffer[] = [buf.subarray(0, 2)];
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return null;
    const marker = buf[pos + 1] as number;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      parts.push(buf.subarray(pos, pos + 2));
      return Buffer.concat(parts);
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      parts.push(buf.subarray(pos, pos + 2));
      pos += 2;
      continue;
    }
    const len = buf.readUInt16BE(pos + 2);
    const end = pos + 2 + len;
    if (len < 2 || end > buf.length) return null;
    // APP1..APP15 (EXIF, XMP, ICC, Photoshop IRB...) and COM go; APP0 (JFIF) stays.
    const drop = (marker >= 0xe1 && marker <= 0xef) || marker === 0xfe;
    if (!drop) parts.push(buf.subarray(pos, end));
    pos = end;
    if (marker === 0xda) {
      // Start of scan: the entropy-coded data runs to the end; copy it as it is.
      parts.push(buf.subarray(pos));
      return Buffer.concat(parts);
    }
  }
  return null;
}

const WEBP_DROP = new Set(['EXIF', 'XMP ']);

function stripWebp(buf: Buffer): Buffer | null {
  const chunks: Buffer[] = [];
  let pos = 12;
  const riffEnd = Math.min(buf.length, 8 + buf.readUInt32LE(4));
  while (pos + 8 <= riffEnd) {
    const id = buf.toString('latin1', pos, pos + 4);
    const len = buf.readUInt32LE(pos + 4);
    const end = pos + 8 + len + (len % 2);
    if (pos + 8 + len > buf.length) return null;
    if (WEBP_DROP.has(id)) {
      pos = end;
      continue;
    }
    let chunk = Buffer.from(buf.subarray(pos, Math.min(end, buf.length)));
    if (id === 'VP8X' && len >= 1) {
      // Clear the "has EXIF" (0x08) and "has XMP" (0x04) flags now that those chunks are gone.
      chunk = Buffer.from(chunk);
      chunk[8] = (chunk[8] as number) & ~0x0c;
    }
    chunks.push(chunk);
    pos = end;
  }
  if (chunks.length === 0) return null;
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + body.length, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}
