import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Deps } from './deps.js';
import { accountsBody, accountsHandlers } from './accounts/accounts.routes.js';
import { invitationsHandlers } from './accounts/invitations.routes.js';
import { oidcHandlers } from './accounts/oidc.routes.js';
import { passkeyForm, passkeyHandlers } from './accounts/passkeys.routes.js';
import { loadSession } from './accounts/session.js';
import { bookingBody, bookingHandlers } from './booking/booking.routes.js';
import { calendarBody, calendarHandlers } from './calendars/connection.routes.js';
import { catalogBody, catalogHandlers } from './catalog/catalog.routes.js';
import { scheduleHandlers } from './catalog/schedule.routes.js';
import { privacyBody, privacyHandlers } from './privacy/privacy.routes.js';
import { loadStaticFiles } from './web/assets.js';
import type { AppContext } from './web/context.js';
import { requireCsrf, requireOwner, requireStaff } from './web/guards.js';
import { reportProxiedHttps } from './web/base-url.js';
import { MicroCache } from './web/microcache.js';
import { createViews } from './web/render.js';
import { refuseOddMethods, sameOriginPosts, securityHeaders } from './web/security.js';
import { siteHandlers } from './web/site.js';

/** How long a public page is replayed to other anonymous visitors at most (see MicroCache). */
const PAGE_CACHE_MS = 1000;

/** The language switch posts one field and where to go back to. */
const langBody = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 });

/**
 * Builds the Express app with every route of the product in one readable list. Never listens
 * (tests call it): `handler` is what a server runs — the public pages' micro-cache first, then
 * the app.
 */
export function createApp(deps: Deps): { app: express.Express; ctx: AppContext; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  const { config } = deps;
  // Every write through this process (kysely and better-sqlite3 share one connection) counts here.
  const changes = deps.sqlite.prepare('select total_changes()').pluck();
  const pageCache = new MicroCache({
    ttlMs: PAGE_CACHE_MS,
    maxEntries: 200,
    now: () => deps.clock.now(),
    version: () => changes.get() as number,
    defaultLocale: config.defaultLocale,
  });
  const ctx: AppContext = { ...deps, views: createViews(), staticFiles: loadStaticFiles(), pageCache };

  const site = siteHandlers(ctx);
  const accounts = accountsHandlers(ctx);
  const team = invitationsHandlers(ctx);
  const sso = oidcHandlers(ctx);
  const passkeys = passkeyHandlers(ctx);
  const catalog = catalogHandlers(ctx);
  const schedule = scheduleHandlers(ctx);
  const calendar = calendarHandlers(ctx);
  const privacy = privacyHandlers(ctx);
  const booking = bookingHandlers(ctx);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy ? 'loopback, linklocal, uniquelocal' : false);
  app.set('query parser', 'simple');

  app.use(site.requestBasics);
  app.use(reportProxiedHttps(config, deps.log));
  app.use(securityHeaders(config));
  app.use(refuseOddMethods);
  app.use(sameOriginPosts(config));

  // Before the session: answers that never depend on who asks.
  app.get('/static/*path', site.serveStatic);
  app.get('/favicon.ico', site.noFavicon);
  app.get('/healthz', site.healthz);
  app.get('/brand/style.css', privacy.showBrandStyle);
  app.get('/brand/logo', privacy.showLogo);

  // Who is signed in (session cookie, else remember-me): sets locals staff and csrf.
  app.use(loadSession(ctx));

  app.post('/lang', langBody, site.switchLanguage);
  app.get('/', booking.showHome);

  // First run and sign-in.
  app.get('/setup', accounts.showSetup);
  app.post('/setup', accountsBody, accounts.createOwner);
  app.get('/login', accounts.showLogin);
  app.post('/login', accountsBody, accounts.submitLogin);
  app.post('/logout', accountsBody, accounts.signOut);
  app.get('/auth/google', accounts.startGoogleSignIn);
  app.get('/auth/google/callback', accounts.finishGoogle);
  app.get('/auth/oidc', sso.startOidcSignIn);
  app.get('/auth/oidc/callback', sso.finishOidcSignIn);
  app.post('/auth/passkey/options', passkeys.passkeySignInOptions);
  app.post('/auth/passkey', passkeyForm, passkeys.submitPasskeySignIn);

  // The staff area: home, profile, your data.
  app.get('/admin', requireStaff, accounts.showDashboard);
  app.get('/admin/profile', requireStaff, accounts.showProfile);
  app.post('/admin/profile', accountsBody, requireStaff, requireCsrf, accounts.saveProfile);
  app.post('/admin/profile/password', accountsBody, requireStaff, requireCsrf, accounts.changeMyPassword);
  app.post('/admin/profile/picture', requireStaff, accounts.uploadPicture);
  app.post('/admin/profile/picture/delete', accountsBody, requireStaff, requireCsrf, accounts.removePicture);
  app.post('/admin/profile/google', accountsBody, requireStaff, requireCsrf, accounts.linkGoogle);
  app.post('/admin/profile/google/unlink', accountsBody, requireStaff, requireCsrf, accounts.unlinkGoogle);
  app.post('/admin/profile/passkeys/options', passkeyForm, requireStaff, requireCsrf, passkeys.passkeyRegistrationOptions);
  app.post('/admin/profile/passkeys', passkeyForm, requireStaff, requireCsrf, passkeys.addPasskey);
  app.post('/admin/profile/passkeys/:id/name', passkeyForm, requireStaff, requireCsrf, passkeys.renameMyPasskey);
  app.post('/admin/profile/passkeys/:id/delete', passkeyForm, requireStaff, requireCsrf, passkeys.removeMyPasskey);
  app.post('/admin/profile/password/off', passkeyForm, requireStaff, requireCsrf, passkeys.turnOffMyPassword);
  app.get('/admin/data', requireStaff, accounts.showData);
  app.get('/admin/data/export', requireStaff, accounts.downloadExport);
  app.post('/admin/data/delete', accountsBody, requireStaff, requireCsrf, accounts.deleteMyAccount);

  // The owner's team, and a colleague's invitation link.
  app.get('/admin/invitations', requireOwner, team.showTeam);
  app.post('/admin/invitations', accountsBody, requireOwner, requireCsrf, team.inviteColleague);
  app.post('/admin/invitations/:hash/cancel', accountsBody, requireOwner, requireCsrf, team.cancelInvitation);
  app.get('/admin/staff/:id/remove', requireOwner, team.confirmRemoveColleague);
  app.post('/admin/staff/:id/remove', accountsBody, requireOwner, requireCsrf, team.removeColleague);
  app.get('/invite/:token', team.showInvitation);
  app.post('/invite/:token', accountsBody, team.acceptInvite);

  // The services editor.
  app.get('/admin/services', requireStaff, catalog.showServices);
  app.post('/admin/services', requireStaff, catalogBody, requireCsrf, catalog.createService);
  app.get('/admin/services/new', requireStaff, catalog.newService);
  app.get('/admin/services/:id', requireStaff, catalog.editService);
  app.post('/admin/services/:id', requireStaff, catalogBody, requireCsrf, catalog.updateService);
  app.get('/admin/services/:id/delete', requireStaff, catalog.confirmDeleteService);
  app.post('/admin/services/:id/delete', requireStaff, catalogBody, requireCsrf, catalog.removeService);

  // The staff member's weekly schedule and special days, which services use unless they set their own hours.
  app.get('/admin/schedule', requireStaff, schedule.showSchedule);
  app.post('/admin/schedule', requireStaff, catalogBody, requireCsrf, schedule.saveWeeklyHours);
  app.post('/admin/schedule/days', requireStaff, catalogBody, requireCsrf, schedule.addSpecialDay);
  app.post('/admin/schedule/days/remove', requireStaff, catalogBody, requireCsrf, schedule.removeSpecialDay);

  // The calendar connection (Google's is a GET link: a form POST redirecting to Google would be blocked by form-action 'self').
  app.get('/admin/calendar', requireStaff, calendar.showCalendar);
  app.post('/admin/calendar/caldav', calendarBody, requireStaff, requireCsrf, calendar.connectCaldav);
  app.post('/admin/calendar/choose', calendarBody, requireStaff, requireCsrf, calendar.chooseCalendars);
  app.post('/admin/calendar/test', calendarBody, requireStaff, requireCsrf, calendar.testConnection);
  app.get('/admin/calendar/disconnect', requireStaff, calendar.confirmDisconnect);
  app.post('/admin/calendar/disconnect', calendarBody, requireStaff, requireCsrf, calendar.disconnectCalendar);
  app.get('/admin/calendar/google', requireStaff, calendar.startGoogleConnect);
  app.get('/admin/calendar/google/callback', requireStaff, calendar.finishGoogleConnect);

  // The privacy policy, generated from the inventory and the live configuration, and the owner's settings that feed it
  // and brand the pages (name, accent colour, logo; their files are served before the session, above).
  app.get('/privacy', privacy.showPrivacy);
  app.get('/admin/settings', requireOwner, privacy.showInstanceSettings);
  app.post('/admin/settings', privacyBody, requireOwner, requireCsrf, privacy.saveInstanceSettings);
  app.post('/admin/settings/brand', privacyBody, requireOwner, requireCsrf, privacy.saveBrandSettings);
  app.post('/admin/settings/logo', requireOwner, privacy.uploadLogo);
  app.post('/admin/settings/logo/delete', privacyBody, requireOwner, requireCsrf, privacy.removeLogo);

  // Public booking pages (no cookie, nothing stored). The picture comes before /:service.
  app.get('/@:username', booking.showStaff);
  app.get('/@:username/picture', accounts.showPicture);
  app.get('/@:username/:service', booking.showPicker);
  app.get('/@:username/:service/slots', booking.showSlotsJson);
  app.post('/@:username/:service/book', bookingBody, booking.submitBooking);

  // Managing a booking: the token is the only key.
  app.get('/b/:token', booking.noStore, booking.showManage);
  app.get('/b/:token/ics', booking.noStore, booking.downloadIcs);
  app.post('/b/:token/cancel', booking.noStore, booking.limitManage, bookingBody, booking.cancelBooking);
  app.get('/b/:token/reschedule', booking.noStore, booking.showReschedule);
  app.post('/b/:token/reschedule', booking.noStore, booking.limitManage, bookingBody, booking.submitReschedule);

  // A request's approve/decline links (the staff member's) and the double opt-in link (the client's): GET shows a button, POST acts.
  app.get('/approve/:token', booking.noStore, booking.showApproval);
  app.post('/approve/:token', booking.noStore, booking.limitManage, bookingBody, booking.submitApproval);
  app.get('/decline/:token', booking.noStore, booking.showApproval);
  app.post('/decline/:token', booking.noStore, booking.limitManage, bookingBody, booking.submitApproval);
  app.get('/confirm/:sealed', booking.noStore, booking.showConfirmLink);
  app.post('/confirm/:sealed', booking.noStore, booking.limitManage, bookingBody, booking.submitConfirmLink);

  app.use(site.noRoute);
  app.use(site.renderError);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (!pageCache.serve(req, res)) app(req, res);
  };
  return { app, ctx, handler };
}
