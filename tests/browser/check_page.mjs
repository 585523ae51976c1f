// Loads a page file in Debian's Chromium (playwright-core), runs axe-core with the WCAG 2.x A/AA
// rules and prints the results as JSON on stdout; optionally saves a full-page screenshot.
//
// Usage: node check_page.mjs PAGE.html [--screenshot OUT.png] [--width PX] [--media screen|print]
// Exit codes: 0 the check ran (read "violations" in the JSON), 2 usage or browser error.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

function parseArgs(argv) {
  const options = { page: null, screenshot: null, width: 1280, media: 'screen' };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--screenshot') options.screenshot = argv[++i];
    else if (arg === '--width') options.width = Number(argv[++i]);
    else if (arg === '--media') options.media = argv[++i];
    else if (!options.page && !arg.startsWith('--')) options.page = arg;
    else throw new Error(`unknown argument: ${arg}`);
  }
  if (!options.page || !Number.isInteger(options.width) || !['screen', 'print'].includes(options.media)) {
    throw new Error('usage: node check_page.mjs PAGE.html [--screenshot OUT.png] [--width PX] [--media screen|print]');
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const url = pathToFileURL(resolve(options.page)).href;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: options.width, height: 900 }, locale: 'ja-JP' });
    await page.emulateMedia({ media: options.media });
    const response = await page.goto(url, { waitUntil: 'load' });
    if (response && !response.ok()) throw new Error(`cannot load ${url}: ${response.status()}`);
    await page.addScriptTag({ content: AXE_SOURCE });
    const results = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations', 'incomplete'] }),
      WCAG_TAGS,
    );
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: true });
    const brief = (items) => items.map((r) => ({
      id: r.id, impact: r.impact, help: r.help, tags: r.tags,
      nodes: r.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
    }));
    process.stdout.write(`${JSON.stringify({
      url,
      axe_version: results.testEngine.version,
      browser_version: browser.version(),
      tags: WCAG_TAGS,
      violations: brief(results.violations),
      incomplete: brief(results.incomplete),
      passes: results.passes.length,
      width: options.width,
      scroll_width: scrollWidth,
      screenshot: options.screenshot,
    }, null, 1)}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  process.stderr.write(`check_page: ${error.stack || error}\n`);
  process.exit(2);
});
