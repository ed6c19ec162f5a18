import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEmailAddress } from './email.js';

test('one e-mail rule (the browser\'s type=email) for staff, the privacy contact and clients', () => {
  for (const ok of ['a@b.co', 'first.last+tag@sub.example.fr', "o'brien@example.ie", 'x@xn--bcher-kva.example', `${'a'.repeat(64)}@example.com`]) assert.ok(isEmailAddress(ok), ok);
  const long = `a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.fr`;
  for (const bad of ['', 'plain', 'a@b', '@b.co', 'a@', 'a b@c.de', 'a@b .de', 'josé@exemple.fr', 'a@-b.com', 'a@b-.com', 'a@b..com', 'a@b.com\n', '<a@b.com>', 'a@b.com, c@d.com', `${'a'.repeat(65)}@example.com`, long]) {
    assert.equal(isEmailAddress(bad), false, JSON.stringify(bad));
  }
  assert.ok(long.length > 254);
});
