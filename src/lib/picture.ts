import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { err, ok, type Result } from './result.js';
import { PICTURE_MAX_PIXELS, PICTURE_MAX_SIDE, PICTURE_OUTPUT_BYTES, PICTURE_SIDE, type Picture, type PictureError, type PictureType } from './picture-rules.js';

/**
 * Profile pictures: the type is read from the magic bytes (never from the file name or the
 * browser's Content-Type) and the pixel size from the header, which is capped before anything is
 * decoded. The picture is then decoded, turned upright, shrunk to at most 512 px a side and
 * re-encoded by pure-JS codecs (the single binary has no native addon), so no metadata (EXIF
 * with GPS, XMP, comments, text chunks) survives and a visitor downloads at most ~100 KB.
 * WebP is refused: no pure-JS WebP codec is installed. Pure: no I/O.
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** JPEG quality steps tried until the picture fits the byte budget. */
const QUALITIES = [85, 75, 65, 50, 35, 20] as const;

/** The image type by its first bytes, or null for anything else. */
export function detectType(buf: Buffer): PictureType | 'image/webp' | null {
  if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** Checks an uploaded picture and returns it re-encoded: upright, small, without metadata. */
export function cleanPicture(buf: Buffer): Result<Picture, PictureError> {
  const type = detectType(buf);
  if (type === null) return err('type');
  if (type === 'image/webp') return err('webp');
  const size = type === 'image/png' ? pngSize(buf) : jpegSize(buf);
  if (!size) return err('corrupt');
  if (size.width > PICTURE_MAX_SIDE || size.height > PICTURE_MAX_SIDE || size.width * size.height > PICTURE_MAX_PIXELS) return err('dimensions');
  if (type === 'image/png' && !pngComplete(buf)) return err('corrupt');
  const decoded = decode(buf, type);
  if (!decoded || decoded.width !== size.width || decoded.height !== size.height) return err('corrupt');
  const upright = orient(shrink(decoded, PICTURE_SIDE), type === 'image/jpeg' ? jpegOrientation(buf) : 1);
  return encode(upright);
}

// ---- Headers --------------------------------------------------------------------------------

interface Size {
  readonly width: number;
  readonly height: number;
}

/** PNG: IHDR must be the first chunk. */
function pngSize(buf: Buffer): Size | null {
  if (buf.length < 24 || buf.readUInt32BE(8) !== 13 || buf.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : null;
}

/** Walks the chunk list without inflating anything: without IDAT the PNG decoder would invent blank pixels. */
function pngComplete(buf: Buffer): boolean {
  let pos = 8;
  let sawData = false;
  while (pos + 12 <= buf.length) {
    const end = pos + 12 + buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (end > buf.length) return false;
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') return sawData;
    pos = end;
  }
  return false;
}

/** Walks the JPEG segments up to the frame header (SOF0–SOF15 but DHT, JPG and DAC). */
function jpegSize(buf: Buffer): Size | null {
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return null;
    const marker = buf[pos + 1] as number;
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null;
    const len = buf.readUInt16BE(pos + 2);
    if (len < 2 || pos + 2 + len > buf.length) return null;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (len < 7) return null;
      const height = buf.readUInt16BE(pos + 5);
      const width = buf.readUInt16BE(pos + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    pos += 2 + len;
  }
  return null;
}

/** The EXIF orientation (1–8) of a JPEG, 1 when absent or unreadable. */
function jpegOrientation(buf: Buffer): number {
  let pos = 2;
  while (pos + 4 <= buf.length && buf[pos] === 0xff) {
    const marker = buf[pos + 1] as number;
    if (marker === 0xda || marker === 0xd9) break;
    const len = buf.readUInt16BE(pos + 2);
    if (marker === 0xe1 && buf.toString('latin1', pos + 4, pos + 10) === 'Exif\0\0') return tiffOrientation(buf.subarray(pos + 10, pos + 2 + len));
    pos += 2 + len;
  }
  return 1;
}

function tiffOrientation(tiff: Buffer): number {
  if (tiff.length < 8) return 1;
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) === 0x0112) {
      const v = u16(entry + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

// ---- Pixels ---------------------------------------------------------------------------------

/** RGBA pixels, 4 bytes each, row after row. */
interface Bitmap {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function decode(buf: Buffer, type: PictureType): Bitmap | null {
  try {
    if (type === 'image/png') {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, data: png.data };
    }
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: PICTURE_MAX_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, data: img.data };
  } catch {
    return null;
  }
}

/** Area-average downscale to at most `side` pixels a side (alpha-weighted so edges keep their colour). */
function shrink(src: Bitmap, side: number): Bitmap {
  const scale = Math.min(1, side / Math.max(src.width, src.height));
  if (scale === 1) return src;
  const width = Math.max(1, Math.round(src.width * scale));
  const height = Math.max(1, Math.round(src.height * scale));
  const data = new Uint8Array(width * height * 4);
  for (let oy = 0; oy < height; oy++) {
    const y0 = Math.floor((oy * src.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * src.height) / height));
    for (let ox = 0; ox < width; ox++) {
      const x0 = Math.floor((ox * src.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * src.width) / width));
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let y = y0; y < y1; y++) {
        let i = (y * src.width + x0) * 4;
        for (let x = x0; x < x1; x++, i += 4) {
          const alpha = src.data[i + 3] as number;
          r += (src.data[i] as number) * alpha;
          g += (src.data[i + 1] as number) * alpha;
          b += (src.data[i + 2] as number) * alpha;
          a += alpha;
        }
      }
      const o = (oy * width + ox) * 4;
      const n = (y1 - y0) * (x1 - x0);
      data[o] = a === 0 ? 0 : Math.round(r / a);
      data[o + 1] = a === 0 ? 0 : Math.round(g / a);
      data[o + 2] = a === 0 ? 0 : Math.round(b / a);
      data[o + 3] = Math.round(a / n);
    }
  }
  return { width, height, data };
}

type SourceOf = (x: number, y: number, w: number, h: number) => readonly [number, number];

/** For EXIF orientations 1–8: where the pixel shown at (x, y) sits in the stored w×h picture. */
const ORIENTATIONS: readonly [SourceOf, ...SourceOf[]] = [
  (x, y) => [x, y],
  (x, y, w) => [w - 1 - x, y],
  (x, y, w, h) => [w - 1 - x, h - 1 - y],
  (x, y, _w, h) => [x, h - 1 - y],
  (x, y) => [y, x],
  (x, y, _w, h) => [y, h - 1 - x],
  (x, y, w, h) => [w - 1 - y, h - 1 - x],
  (x, y, w) => [w - 1 - y, x],
];

/** Turns the pixels as the EXIF orientation says, since the tag itself is not kept. */
function orient(src: Bitmap, orientation: number): Bitmap {
  if (orientation === 1) return src;
  const { width: w, height: h } = src;
  const swap = orientation >= 5;
  const width = swap ? h : w;
  const height = swap ? w : h;
  const from = ORIENTATIONS[orientation - 1] ?? ORIENTATIONS[0];
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = from(x, y, w, h);
      const s = (sy * w + sx) * 4;
      data.set(src.data.subarray(s, s + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** PNG when the picture has transparency and fits the budget, JPEG otherwise (flattened on white). */
function encode(img: Bitmap): Result<Picture, PictureError> {
  let opaque = true;
  for (let i = 3; i < img.data.length; i += 4) {
    if (img.data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  const size = { width: img.width, height: img.height };
  if (!opaque) {
    const png = new PNG({ width: img.width, height: img.height });
    Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).copy(png.data);
    const body = PNG.sync.write(png, { colorType: 6 });
    if (body.length <= PICTURE_OUTPUT_BYTES) return ok({ type: 'image/png', body, ...size });
  }
  const flat = opaque ? img.data : onWhite(img.data);
  for (const quality of QUALITIES) {
    const body = jpeg.encode({ ...size, data: flat }, quality).data;
    if (body.length <= PICTURE_OUTPUT_BYTES) return ok({ type: 'image/jpeg', body, ...size });
  }
  // 512 px at quality 20 is far below the budget for any real picture.
  return err('corrupt');
}

function onWhite(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = (data[i + 3] as number) / 255;
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((data[i + c] as number) * a + 255 * (1 - a));
    out[i + 3] = 255;
  }
  return out;
}
