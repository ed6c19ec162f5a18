/** Instance settings set by the owner (e.g. the controller contact on /privacy). */
export interface SettingTable {
  key: string;
  value: string;
}
