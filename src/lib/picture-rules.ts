// What an uploaded picture may be and what becomes of it: the limits, the result and the
// refusals with their messages. Apart from the codec (picture.ts, which runs in the worker pool)
// so the routes that quote these do not load the image codecs.

/** Upload size the route accepts. */
export const PICTURE_MAX_BYTES = 2 * 1024 * 1024;
/**
 * Refused from the header, before decoding: a decompression bomb declares far more. 17 MP covers
 * phone photos (12–16 MP) and panoramas; pure-JS decoding costs about 2 s and 40 bytes per pixel, so
 * 40 MP would need over a gigabyte.
 */
export const PICTURE_MAX_SIDE = 8000;
export const PICTURE_MAX_PIXELS = 17_000_000;
/** What visitors get: at most this many pixels a side and this many bytes. */
export const PICTURE_SIDE = 512;
export const PICTURE_OUTPUT_BYTES = 100 * 1024;

export type PictureType = 'image/png' | 'image/jpeg';

/** Why a picture is refused. */
export type PictureError = 'type' | 'webp' | 'dimensions' | 'corrupt';

export interface Picture {
  readonly type: PictureType;
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
}

/** The message shown for each refusal (admin namespace); `too_costly`: it ran over its time in the worker pool. */
export const PICTURE_ERROR_KEYS: Readonly<Record<PictureError | 'too_costly', string>> = {
  type: 'admin:errors.picture_type',
  webp: 'admin:errors.picture_webp',
  dimensions: 'admin:errors.picture_dimensions',
  corrupt: 'admin:errors.picture_corrupt',
  too_costly: 'admin:errors.picture_too_costly',
};

/** The numbers the refusal messages quote. */
export const PICTURE_MESSAGE_PARAMS: Readonly<Record<string, number>> = {
  max: PICTURE_MAX_BYTES / (1024 * 1024),
  side: PICTURE_MAX_SIDE,
  megapixels: PICTURE_MAX_PIXELS / 1_000_000,
};
