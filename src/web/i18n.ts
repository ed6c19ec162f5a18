import i18next, { type i18n, type TFunction } from 'i18next';
import { LOCALES, type Locale } from '../config.js';
import { readAsset } from './assets.js';

/** Namespaces: one JSON file per area and language, locales/<lng>/<ns>.json. */
export const NAMESPACES = ['common', 'errors', 'admin', 'booking', 'privacy', 'calendar'] as const;

export type Translate = TFunction;

/** Loads every locale file (synchronously, at start) into one i18next instance. */
export async function createI18n(defaultLocale: Locale): Promise<i18n> {
  const resources: Record<string, Record<string, unknown>> = {};
  for (const lng of LOCALES) {
    resources[lng] = {};
    for (const ns of NAMESPACES) {
      resources[lng][ns] = JSON.parse(readAsset(`locales/${lng}/${ns}.json`).toString('utf8')) as unknown;
    }
  }
  const instance = i18next.createInstance();
  await instance.init({
    resources: resources as Parameters<i18n['init']>[0]['resources'],
    lng: defaultLocale,
    fallbackLng: defaultLocale,
    supportedLngs: [...LOCALES],
    ns: [...NAMESPACES],
    defaultNS: 'common',
    nsSeparator: ':',
    interpolation: { escapeValue: false }, // templates escape; e-mails and ICS are not HTML
    returnNull: false,
    initAsync: false,
    showSupportNotice: false,
  } as Parameters<i18n['init']>[0]);
  return instance;
}

/** Picks the locale: explicit cookie choice, then Accept-Language, then the default. */
export function negotiateLocale(cookie: string | undefined, acceptLanguage: string | undefined, fallback: Locale): Locale {
  if (cookie && (LOCALES as readonly string[]).includes(cookie)) return cookie as Locale;
  if (acceptLanguage) {
    const ranked = acceptLanguage
      .split(',')
      .slice(0, 20)
      .map((part, i) => {
        const [tag = '', ...params] = part.trim().split(';');
        const q = params.map((p) => /^\s*q=([01](\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
        return { lang: tag.toLowerCase().split('-')[0] ?? '', q: q === undefined ? 1 : Number(q), i };
      })
      .filter((x) => x.q > 0)
      .sort((a, b) => b.q - a.q || a.i - b.i);
    for (const r of ranked) if ((LOCALES as readonly string[]).includes(r.lang)) return r.lang as Locale;
  }
  return fallback;
}
