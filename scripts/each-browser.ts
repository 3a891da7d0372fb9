// The bench's browser parts: a measurement in a fresh headless page of each
// browser (web/blank.html on the cross-origin isolated server) under a
// deadline. A browser that cannot run it gets the reason instead of figures.
import { BROWSERS, launch, type BrowserName, type DrivenPage } from './browsers.js';
import { startServer } from './coi-server.js';

export async function inEachBrowser<T>(label: string, log: (s: string) => void, deadlineMs: number,
  measure: (page: DrivenPage, serverUrl: string) => Promise<T>): Promise<Partial<Record<BrowserName, T | string>>> {
  const out: Partial<Record<BrowserName, T | string>> = {};
  const server = await startServer();
  try {
    for (const name of BROWSERS) {
      log(`${label}: ${name}…`);
      try {
        const page = await launch(name);
        try {
          await page.goto(`${server.url}web/blank.html`);
          out[name] = await Promise.race([
            measure(page, server.url),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('deadline passed')), deadlineMs).unref()),
          ]);
        } finally {
          await page.close();
        }
      } catch (e) {
        out[name] = `unavailable: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  } finally {
    await server.close();
  }
  return out;
}
