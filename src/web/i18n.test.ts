import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LOCALES } from '../config.js';
import { repoRoot } from './assets.js';
import { NAMESPACES, negotiateLocale } from './i18n.js';

function flatten(obj: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof obj === 'string') out.set(prefix, obj);
  else if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) for (const [kk, vv] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(kk, vv);
  }
  return out;
}

const variables = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]).sort();

test('every key exists in every locale with the same {{variables}}', () => {
  for (const ns of NAMESPACES) {
    const [first, ...others] = LOCALES.map((lng) => ({ lng, keys: flatten(JSON.parse(readFileSync(`${repoRoot()}locales/${lng}/${ns}.json`, 'utf8'))) }));
    assert.ok(first);
    for (const other of others) {
      const missing: string[] = [...first.keys.keys()].filter((k) => !other.keys.has(k));
      const extra: string[] = [...other.keys.keys()].filter((k) => !first.keys.has(k));
      assert.deepEqual(missing, [], `${ns}: keys missing in ${other.lng}`);
      assert.deepEqual(extra, [], `${ns}: keys in ${other.lng} but not in ${first.lng}`);
      for (const [k, v] of first.keys) {
        assert.deepEqual(variables(other.keys.get(k) ?? ''), variables(v), `${ns}:${k} variables differ in ${other.lng}`);
        assert.notEqual((other.keys.get(k) ?? '').trim(), '', `${ns}:${k} is empty in ${other.lng}`);
      }
    }
  }
});

test('locale: explicit choice, then Accept-Language by quality, then the default', () => {
  assert.equal(negotiateLocale('fr', 'en-US,en;q=0.9', 'en'), 'fr');
  assert.equal(negotiateLocale(undefined, 'de-DE,fr-CH;q=0.8,en;q=0.5', 'en'), 'fr');
  assert.equal(negotiateLocale(undefined, 'en;q=0.1, fr;q=0.9', 'en'), 'fr');
  assert.equal(negotiateLocale(undefined, 'de, it', 'fr'), 'fr');
  assert.equal(negotiateLocale('xx', undefined, 'en'), 'en');
  assert.equal(negotiateLocale(undefined, 'fr;q=0', 'en'), 'en');
});
