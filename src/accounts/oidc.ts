import * as client from 'openid-client';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import { err, ok, type Result } from '../lib/result.js';
import { normalizeEmail } from './accounts.js';
import type { OidcPending } from './sign-in-cookie.js';

/**
 * OpenID Connect sign-in (DESIGN.md §5): discovery from CRENEAU_OIDC_ISSUER, authorization
 * code with PKCE, state and nonce, the ID token verified by openid-client (signature from the
 * provider's JWKS, issuer, audience, expiry, nonce). Only the subject and a verified e-mail
 * come out; nothing from the provider is stored but the subject, once linked.
 */

/** Why a round trip with the provider did not give a usable identity; each has its own page. */
export type OidcFailure =
  /** Discovery, the token endpoint or the JWKS could not be reached or answered nonsense. */
  | 'unreachable'
  /** The person cancelled or refused consent at the provider. */
  | 'denied'
  /** The provider refused this client (wrong client id or secret, redirect URI not registered…). */
  | 'client'
  /** The ID token's times do not fit this server's clock. */
  | 'clock'
  /** No round trip of this browser matches (expired, replayed, or the state differs). */
  | 'state'
  /** The ID token does not verify (signature, issuer, audience or nonce). */
  | 'token'
  /** The provider did not vouch for the e-mail address (`email_verified` is not true). */
  | 'unverified';

export interface OidcIdentity {
  readonly sub: string;
  /** Normalised like every stored e-mail; verified by the provider. */
  readonly email: string;
  /** `name` and `preferred_username`, to fill in a new colleague's profile. */
  readonly name: string | null;
  readonly preferredUsername: string | null;
}

/** Discovery is done once, on first use, and retried after a failure (the provider may start after us). */
export class OidcClient {
  private configuration: Promise<client.Configuration> | null = null;

  constructor(
    private readonly settings: NonNullable<Config['oidc']>,
    readonly redirectUri: string,
    private readonly clock: Clock,
  ) {}

  /** Where the people using this server come from (the privacy page and the audit list it). */
  get issuerHost(): string {
    return this.settings.issuer.hostname;
  }

  private discover(): Promise<client.Configuration> {
    if (!this.configuration) {
      const { issuer, clientId, clientSecret } = this.settings;
      const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
      const pending = client
        .discovery(issuer, clientId, { [client.clockSkew]: this.skewSeconds() }, client.ClientSecretBasic(clientSecret), { execute, timeout: 10 })
        .catch((e: unknown) => {
          this.configuration = null;
          throw e;
        });
      this.configuration = pending;
    }
    return this.configuration;
  }

  /** The library reads the system clock; this keeps its checks on the injected clock. */
  private skewSeconds(): number {
    return Math.round((this.clock.now() - Date.now()) / 1000);
  }

  /** The provider's authorization URL and what this browser must keep until the callback. */
  async start(): Promise<Result<{ url: string; pending: Pick<OidcPending, 'state' | 'nonce' | 'codeVerifier'> }, 'unreachable'>> {
    let configuration: client.Configuration;
    try {
      configuration = await this.discover();
    } catch {
      return err('unreachable');
    }
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return ok({ url: url.toString(), pending: { state, nonce, codeVerifier } });
  }

  /** Exchanges the code from the callback URL and verifies the ID token against this browser's round trip. */
  async finish(callbackUrl: URL, pending: OidcPending): Promise<Result<OidcIdentity, OidcFailure>> {
    let configuration: client.Configuration;
    try {
      configuration = await this.discover();
    } catch {
      return err('unreachable');
    }
    let claims: Record<string, unknown> | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      claims = idToken;
      // Some providers put the e-mail only in userinfo; it is asked for the same subject.
      if (idToken && idToken.email === undefined) claims = { ...(await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub)), sub: idToken.sub };
    } catch (e) {
      return err(classify(e));
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub === '') return err('token');
    if (claims.email_verified !== true || typeof claims.email !== 'string') return err('unverified');
    const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
    return ok({ sub: claims.sub, email: normalizeEmail(claims.email), name: text(claims.name), preferredUsername: text(claims.preferred_username) });
  }
}

/** Maps what openid-client throws to the page the person sees. */
function classify(e: unknown): OidcFailure {
  if (e instanceof client.AuthorizationResponseError) return e.error === 'access_denied' || e.error === 'consent_required' || e.error === 'login_required' || e.error === 'interaction_required' ? 'denied' : 'client';
  if (e instanceof client.ResponseBodyError) return e.error === 'invalid_grant' ? 'state' : 'client';
  // A 401 with WWW-Authenticate from the token endpoint: the client id or secret is wrong.
  if (e instanceof client.WWWAuthenticateChallengeError) return 'client';
  if (e instanceof client.ClientError) {
    switch (e.code) {
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
        return 'clock';
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      case 'OAUTH_INVALID_RESPONSE':
      case 'OAUTH_KEY_SELECTION_FAILED':
        return 'token';
      case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
        return 'state';
      default:
        return 'unreachable';
    }
  }
  return 'unreachable';
}
