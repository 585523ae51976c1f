// Runs pa11y (runner HTML_CodeSniffer, standard WCAG2AA) on page files in Debian's Chromium and prints
// the issues of every page as JSON on stdout. No network: the pages are local files and the browser is
// the system's (puppeteer's own download is skipped: npm ci --ignore-scripts).
//
// Usage: node check_htmlcs.mjs PAGE.html [PAGE.html ...]
// Exit codes: 0 the check ran (read "issues" in the JSON), 2 usage or browser error.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pa11y from 'pa11y';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

async function main() {
  const pages = process.argv.slice(2);
  if (!pages.length || pages.some((p) => p.startsWith('--'))) {
    throw new Error('usage: node check_htmlcs.mjs PAGE.html [PAGE.html ...]');
  }
  const results = [];
  for (const page of pages) {
    const result = await pa11y(pathToFileURL(resolve(page)).href, {
      runners: ['htmlcs'],
      standard: 'WCAG2AA',
      includeWarnings: false,
      includeNotices: false,
      timeout: 60000,
      chromeLaunchConfig: { executablePath: CHROMIUM, args: FLAGS },
    });
    results.push({
      page,
      url: result.pageUrl,
      title: result.documentTitle,
      issues: result.issues.map((i) => ({ code: i.code, type: i.type, message: i.message, selector: i.selector, context: i.context })),
    });
  }
  process.stdout.write(`${JSON.stringify({ runner: 'htmlcs', standard: 'WCAG2AA', results }, null, 1)}\n`);
}

main().catch((error) => {
  process.stderr.write(`check_htmlcs: ${error.stack || error}\n`);
  process.exit(2);
});
