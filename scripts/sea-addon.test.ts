import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addonHash, cacheCandidates, extractAddon } from './sea-addon.js';

const tmp = mkdtempSync(join(tmpdir(), 'creneau-addon-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const uid = process.getuid?.() ?? -1;

test('cache folders: XDG_CACHE_HOME, then ~/.cache, then a per-user temporary folder', () => {
  assert.deepEqual(cacheCandidates({ env: { XDG_CACHE_HOME: '/data/.cache' }, home: '/home/ana', tmpdir: '/tmp', uid: 1000 }), [
    '/data/.cache/creneau',
    '/home/ana/.cache/creneau',
    '/tmp/creneau-1000',
  ]);
  // A relative XDG_CACHE_HOME is invalid per the spec; a missing home is skipped.
  assert.deepEqual(cacheCandidates({ env: { XDG_CACHE_HOME: 'rel' }, home: '', tmpdir: '/tmp', uid: 0 }), ['/tmp/creneau-0']);
});

test('the addon is written once into a content-hashed 0700 folder and reused', () => {
  const base = join(tmp, 'a');
  const bytes = Buffer.from('pretend addon v1');
  const file = extractAddon(base, bytes, uid);
  assert.equal(file, join(base, `addon-${addonHash(bytes)}`, 'better_sqlite3.node'));
  assert.deepEqual(readFileSync(file), bytes);
  assert.equal(statSync(join(base, `addon-${addonHash(bytes)}`)).mode & 0o777, 0o700);
  const firstWrite = statSync(file).mtimeMs;
  utimesSync(file, new Date(2021, 0, 1), new Date(2021, 0, 1));
  extractAddon(base, bytes, uid);
  assert.notEqual(statSync(file).mtimeMs, firstWrite, 'the existing file was kept, not rewritten');
});

test('a damaged copy is replaced, stale versions removed, recent ones spared', () => {
  const base = join(tmp, 'b');
  const v1 = Buffer.from('addon v1');
  const v2 = Buffer.from('addon v2');
  const old = extractAddon(base, v1, uid);
  utimesSync(join(base, `addon-${addonHash(v1)}`), new Date(2020, 0, 1), new Date(2020, 0, 1));
  const recent = join(base, 'addon-aaaaaaaaaaaa');
  mkdirSync(recent);
  const file = extractAddon(base, v2, uid);
  assert.deepEqual(readdirSync(base).sort(), ['addon-aaaaaaaaaaaa', `addon-${addonHash(v2)}`].sort());
  assert.notEqual(old, file);

  chmodSync(file, 0o600);
  writeFileSync(file, 'truncated');
  extractAddon(base, v2, uid);
  assert.deepEqual(readFileSync(file), v2, 'a copy that does not match its hash is rewritten');
});

test('a folder that is a symlink or not a folder is refused', () => {
  const target = join(tmp, 'target');
  mkdirSync(target);
  const link = join(tmp, 'link');
  symlinkSync(target, link);
  assert.throws(() => extractAddon(link, Buffer.from('x'), uid), /not a directory/);
  const plain = join(tmp, 'plain');
  writeFileSync(plain, '');
  assert.throws(() => extractAddon(plain, Buffer.from('x'), uid));
});
