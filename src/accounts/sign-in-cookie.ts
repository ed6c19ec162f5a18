import type { Request, Response } from 'express';
import type { Deps } from '../deps.js';
import { open, seal } from '../crypto/seal.js';
import { clearCookie, readCookie, setCookie } from '../web/cookies.js';

/**
 * The short-lived "sign-in in progress" cookie (staff only, never set on a client page): it
 * binds an OpenID Connect round trip (state, nonce, PKCE verifier) or a passkey challenge to
 * the browser that started it, so a callback or an assertion replayed from another browser is
 * refused. Its value is sealed (AES-256-GCM under the instance key): nothing is stored
 * server-side and the browser can neither read nor alter it.
 */

export const SIGN_IN_COOKIE_SECONDS = 10 * 60;
const AAD = 'cookie:signin';

/** An OpenID Connect round trip started by this browser. */
export interface OidcPending {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly next: string;
  /** The invitation token when the round trip accepts an invitation. */
  readonly invite: string | null;
}

/** A WebAuthn challenge issued to this browser: to sign in, or to add a passkey to `staffId`. */
export interface PasskeyPending {
  readonly challenge: string;
  readonly purpose: 'sign-in' | 'register';
  readonly staffId: number | null;
}

export interface SignInPending {
  readonly expiresAt: number;
  readonly oidc?: OidcPending;
  readonly passkey?: PasskeyPending;
}

/** The pending sign-in of this browser, if its cookie opens and has not expired. */
export function readSignIn(deps: Pick<Deps, 'config' | 'keyring' | 'clock'>, req: Request): SignInPending | null {
  const value = readCookie(req, deps.config, 'signin');
  if (!value) return null;
  try {
    const parsed = JSON.parse(open(deps.keyring, value, AAD)) as SignInPending;
    return typeof parsed.expiresAt === 'number' && parsed.expiresAt > deps.clock.now() ? parsed : null;
  } catch {
    // Sealed under an older key, tampered with, or malformed: as if absent.
    return null;
  }
}

/** Adds one part (OIDC or passkey) to this browser's pending sign-in, keeping the other. */
export function writeSignIn(deps: Pick<Deps, 'config' | 'keyring' | 'clock'>, req: Request, res: Response, part: { oidc: OidcPending } | { passkey: PasskeyPending }): void {
  const previous = readSignIn(deps, req) ?? {};
  const next: SignInPending = { ...previous, ...part, expiresAt: deps.clock.now() + SIGN_IN_COOKIE_SECONDS * 1000 };
  setCookie(res, deps.config, 'signin', seal(deps.keyring, JSON.stringify(next), AAD), SIGN_IN_COOKIE_SECONDS);
}

/** Takes one part out (single use): the cookie keeps the other part, or goes. */
export function takeSignIn<K extends 'oidc' | 'passkey'>(deps: Pick<Deps, 'config' | 'keyring' | 'clock'>, req: Request, res: Response, kind: K): SignInPending[K] | null {
  const pending = readSignIn(deps, req);
  const part = pending?.[kind] ?? null;
  if (!pending) {
    if (readCookie(req, deps.config, 'signin')) clearCookie(res, deps.config, 'signin');
    return null;
  }
  const rest: SignInPending = { ...pending, [kind]: undefined };
  if (rest.oidc || rest.passkey) {
    const seconds = Math.max(1, Math.ceil((pending.expiresAt - deps.clock.now()) / 1000));
    setCookie(res, deps.config, 'signin', seal(deps.keyring, JSON.stringify(rest), AAD), seconds);
  } else clearCookie(res, deps.config, 'signin');
  return part ?? null;
}
