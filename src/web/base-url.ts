import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config.js';
import type { Logger } from '../lib/log.js';

/**
 * Behind a proxy that terminates HTTPS, an `http://` base URL makes every link Creneau gives
 * out (pages, e-mails, invitations) point at plain HTTP and keeps cookies from being Secure.
 * The first request that proves it is reported once, naming the variable and the fix.
 */
export function reportProxiedHttps(config: Config, log: Logger) {
  let reported = config.baseUrl.protocol === 'https:' || !config.trustProxy;
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!reported && req.protocol === 'https') {
      reported = true;
      log.warn(
        `CRENEAU_BASE_URL: ${config.baseUrl.origin} is http://, but the reverse proxy forwards HTTPS; set CRENEAU_BASE_URL=https://${config.baseUrl.host}${config.baseUrl.pathname}`,
      );
    }
    next();
  };
}
