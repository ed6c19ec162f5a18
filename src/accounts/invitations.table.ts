/** Pending staff invitations: one-time link (hashed), expiring. */
export interface InvitationTable {
  token_hash: string;
  email: string;
  invited_by: number;
  created_at: number;
  expires_at: number;
}
