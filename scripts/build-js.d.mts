/** Builds dist/ from src/ unless it is up to date; resolves true when it built. */
export function buildJs(opts?: { force?: boolean; quiet?: boolean }): Promise<boolean>;
