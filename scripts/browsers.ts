// Headless browsers behind one small interface: Chromium through
// playwright-core, Firefox through puppeteer-core (WebDriver BiDi; stock
// Firefox cannot be driven by playwright). The system browsers are used,
// nothing is downloaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type BrowserName = 'chromium' | 'firefox';
export const BROWSERS: BrowserName[] = ['chromium', 'firefox'];

export const EXECUTABLES: Record<BrowserName, string> = {
  chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  firefox: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
};

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

export interface DrivenPage {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Evaluates `fn(arg)` in the page and returns its (JSON) result. */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** The browser's version string. */
  version: string;
  close(): Promise<void>;
}

/** Launches `name` headless with one page; page console lines go to `onConsole`. */
export async function launch(name: BrowserName, onConsole: (line: string) => void = () => {}): Promise<DrivenPage> {
  const profile = mkdtempSync(join(tmpdir(), `wtc-${name}-`));
  const cleanup = () => rmSync(profile, { recursive: true, force: true });
  try {
    if (name === 'chromium') {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: EXECUTABLES.chromium, headless: true, args: CHROMIUM_ARGS, timeout: 60_000,
      });
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.on('console', (m) => onConsole(m.text()));
      page.on('pageerror', (e) => onConsole(`pageerror: ${e.message}`));
      return {
        version: `Chromium ${browser.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent))}`,
        goto: async (url) => { await page.goto(url, { waitUntil: 'load', timeout: 30_000 }); },
        evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
        close: async () => { await browser.close().catch(() => {}); cleanup(); },
      };
    }
    const puppeteer = (await import('puppeteer-core')).default;
    const browser = await puppeteer.launch({
      browser: 'firefox', executablePath: EXECUTABLES.firefox, headless: true, userDataDir: profile, timeout: 60_000,
      args: ['--no-remote'],
    });
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    page.on('console', (m) => onConsole(m.text()));
    page.on('pageerror', (e) => onConsole(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
    return {
      version: await browser.version(),
      goto: async (url) => { await page.goto(url, { waitUntil: 'load', timeout: 30_000 }); },
      evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
      close: async () => { await browser.close().catch(() => {}); cleanup(); },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
