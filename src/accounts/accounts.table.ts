import type { Generated } from 'kysely';

/** Staff members (DESIGN.md §1.2: the only people whose data is stored). */
export interface StaffTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  email: string;
  password_hash: string | null;
  google_sub: string | null;
  /** The OpenID Connect subject (`sub`) linked to this account (migration 002). */
  oidc_sub: string | null;
  locale: string;
  time_zone: string;
  bio: string;
  place: string;
  picture: Buffer | null;
  picture_type: string | null;
  is_owner: number;
  created_at: number;
  updated_at: number;
}

/** Signed-in staff sessions; the cookie holds the id, the table only its hash. */
export interface SessionTable {
  id_hash: string;
  staff_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** Remember-me tokens: selector + hashed validator, rotated on use. */
export interface RememberTokenTable {
  selector: string;
  validator_hash: string;
  staff_id: number;
  expires_at: number;
}

/** Passkeys (WebAuthn credentials): only the public key and the credential id, never a secret. */
export interface PasskeyTable {
  id: Generated<number>;
  staff_id: number;
  /** base64url, as the browser reports it. */
  credential_id: string;
  /** COSE public key. */
  public_key: Buffer;
  sign_count: number;
  /** JSON array of transports hints (internal, usb, hybrid, …). */
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}
