// A whole Creneau (real Radicale, staff "alice", service "haircut") in its own process for the
// booking benchmark; prints its URL and the Radicale calendar on stdout, stops on SIGTERM.
import { startWorld } from '../test-support/world.js';

const w = await startWorld();
process.stdout.write(`${JSON.stringify({ url: w.url, calendarUrl: w.calendarUrl, username: w.radicale?.username, password: w.radicale?.password })}\n`);
process.once('SIGTERM', () => {
  void w.stop().then(() => process.exit(0));
});
