import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isForbiddenAddress, mayConnect, parseAddress, parseAllowList } from './net-guard.js';

test('addresses a CalDAV URL may never reach by default', () => {
  for (const a of [
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.10',
    '100.64.0.1', '169.254.169.254', '169.254.1.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe',
    '2002:c0a8:0101::1', '::127.0.0.1', '[::1]', 'not-an-ip',
  ]) assert.equal(isForbiddenAddress(a), true, a);
});

test('public addresses are fine', () => {
  for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4007:80e::200e']) {
    assert.equal(isForbiddenAddress(a), false, a);
  }
});

test('IPv6 parsing expands :: and embedded IPv4', () => {
  assert.deepEqual(parseAddress('::ffff:127.0.0.1'), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]);
  assert.deepEqual(parseAddress('1::2'), [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  assert.equal(parseAddress('1:2:3'), null);
});

test('the allow list takes host names, addresses and CIDRs', () => {
  const allow = parseAllowList(['nas.local', '127.0.0.1', '192.168.10.0/24', 'fd00::/8', ' Radicale.LAN. ']);
  assert.equal(mayConnect('nas.local', '192.168.1.5', allow), true);
  assert.equal(mayConnect('NAS.local.', '10.0.0.9', allow), true);
  assert.equal(mayConnect('radicale.lan', '10.0.0.9', allow), true);
  assert.equal(mayConnect('x.example', '127.0.0.1', allow), true);
  assert.equal(mayConnect('x.example', '::ffff:127.0.0.1', allow), true);
  assert.equal(mayConnect('x.example', '127.0.0.2', allow), false);
  assert.equal(mayConnect('x.example', '192.168.10.77', allow), true);
  assert.equal(mayConnect('x.example', '192.168.11.1', allow), false);
  assert.equal(mayConnect('x.example', 'fd12::1', allow), true);
  assert.equal(mayConnect('x.example', 'fe80::1', allow), false);
  assert.equal(mayConnect('dav.example.com', '93.184.216.34', parseAllowList([])), true);
  assert.equal(mayConnect('localhost', '127.0.0.1', parseAllowList([])), false);
});
