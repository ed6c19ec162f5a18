import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyringFrom } from '../crypto/keyring.js';
import { bookingToken, verifyBookingToken } from '../crypto/token.js';
import { approvalStep, approvalToken, verifyApprovalToken } from './approval.js';

const k = keyringFrom(Buffer.alloc(32, 5));
const subject = { staffId: 3, connectionId: 7, bookingId: '0123456789abcdefghijklmnop' };

test('an approval token verifies for its staff member and connection only', () => {
  const token = approvalToken(k, subject);
  assert.match(token, /^0123456789abcdefghijklmnop\.[0-9a-v]{32}$/);
  assert.equal(verifyApprovalToken(k, token, { staffId: 3, connectionId: 7 }), true);
  assert.equal(verifyApprovalToken(k, token, { staffId: 4, connectionId: 7 }), false);
  assert.equal(verifyApprovalToken(k, token, { staffId: 3, connectionId: 8 }), false);
  assert.equal(verifyApprovalToken(keyringFrom(Buffer.alloc(32, 6)), token, { staffId: 3, connectionId: 7 }), false);
  assert.equal(verifyApprovalToken(k, token.replace(/.$/, (c) => (c === '0' ? '1' : '0')), { staffId: 3, connectionId: 7 }), false);
});

test("the client's manage token and the staff member's approval token never stand for each other", () => {
  const manage = bookingToken(k, subject);
  const approve = approvalToken(k, subject);
  assert.notEqual(manage, approve);
  assert.equal(verifyApprovalToken(k, manage, { staffId: 3, connectionId: 7 }), false);
  assert.equal(verifyBookingToken(k, approve, { staffId: 3, connectionId: 7 }), false);
});

test('approve and decline act on a pending request once; later clicks are answered, not repeated', () => {
  assert.equal(approvalStep('approve', 'pending'), 'act');
  assert.equal(approvalStep('approve', 'confirmed'), 'already_done');
  assert.equal(approvalStep('approve', 'cancelled'), 'too_late');
  assert.equal(approvalStep('decline', 'pending'), 'act');
  assert.equal(approvalStep('decline', 'cancelled'), 'already_done');
  assert.equal(approvalStep('decline', 'confirmed'), 'too_late');
});
