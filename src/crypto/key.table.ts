/** One value sealed under the current key, to tell a wrong key from a right one at start-up. */
export interface KeyCanaryTable {
  key_id: string;
  sealed: string;
}
