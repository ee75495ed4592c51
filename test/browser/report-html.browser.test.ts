import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { main } from '../../scripts/ssm-audit/cli';

/**
 * The HTML report of the demo fleet in a real browser: Debian's headless Chromium driven by
 * playwright-core, one launch for the file. Without Chromium a local run skips these tests, loudly;
 * CI (CI=true, set by .ci/run, which installs the package) never skips: a missing Chromium fails.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
/**
 * The README's screenshot is rewritten only when asked (UPDATE_DOCS=1 npx jest test/browser), so a test
 * run leaves the working tree as it was; otherwise the screenshot goes to a temporary file.
 */
const SCREENSHOT =
  process.env.UPDATE_DOCS === '1'
    ? path.join(__dirname, '..', '..', 'docs', 'report.png')
    : path.join(mkdtempSync(path.join(os.tmpdir(), 'ssm-audit-screenshot-')), 'report.png');

if (!available && !inCi) {
  // eslint-disable-next-line no-console
  console.warn(
    `\n!!! SKIPPING the HTML report browser tests: no Chromium at ${CHROMIUM}.\n!!! Install it with \`apt-get install -y chromium\` (CI installs it and never skips).\n`,
  );
}

const browserIt = available || inCi ? it : it.skip;

let dir: string;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  if (!available) {
    if (inCi)
      throw new Error(
        `CI=true but no Chromium at ${CHROMIUM}: .ci/run must install it (apt-get install -y chromium)`,
      );
    return;
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssm-audit-html-'));
  const file = path.join(dir, 'report.html');
  let err = '';
  const code = await main(
    ['node', 'ssm-audit', 'report', '--html', file, '--snapshot', 'test/fixtures/demo/demo-fleet.json'],
    {
      out: () => undefined,
      err: (t) => (err += t),
      isTTY: false,
      now: () => new Date('2026-11-23T10:05:00Z'),
    },
  );
  expect({ code, err }).toEqual({ code: 0, err: expect.stringContaining(`HTML report written to ${file}`) });
  const { chromium } = await import('playwright-core');
  // The browser runs on the real clock: CI's second pass shifts time with libfaketime (LD_PRELOAD), which
  // Chromium does not survive; the report's time is passed in, so nothing here depends on the clock.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined && !/^(LD_PRELOAD|FAKETIME.*|FAKE_DATE|NODE_OPTIONS)$/.test(e[0]),
    ),
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, env });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Offline: any request but the file itself fails the test.
  await page.route('**/*', (route) =>
    route.request().url().startsWith('file:') ? route.continue() : route.abort(),
  );
  await page.goto(pathToFileURL(file).href);
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const visibleIds = () =>
  page.$$eval('#unmanaged tbody tr:not([hidden]) td:first-child', (tds) =>
    tds.map((td) => td.textContent ?? ''),
  );

browserIt('opens with the headline', async () => {
  expect(await page.textContent('#headline')).toBe(
    '11 of 43 running instances and 6 of 844 hybrid nodes cannot be managed by Systems Manager.',
  );
  expect(await page.title()).toMatch(/^SSM readiness: account 123456789012, eu-west-1/);
});

browserIt('draws the charts: a bar per root cause, per rule, per VPC and the account', async () => {
  const labels = (id: string) =>
    page.$$eval(`svg#${id} g.bar`, (gs) => gs.map((g) => g.getAttribute('data-label') ?? ''));
  const causes = await labels('chart-causes');
  expect(causes).toHaveLength(11);
  // One bar per cause the table's cause filter offers (its first option is "every cause").
  expect(await page.$$eval('#cause option', (os) => os.slice(1).map((o) => o.getAttribute('value')))).toEqual(
    causes,
  );
  expect(causes[0]).toBe('managed-status CONNECTION_LOST');
  const values = await page.$$eval('svg#chart-causes g.bar', (gs) =>
    gs.map((g) => Number(g.getAttribute('data-value'))),
  );
  expect(values.reduce((a, b) => a + b, 0)).toBe(17);
  expect(await labels('chart-rules')).toEqual([
    'instance-permissions',
    'network-path',
    's3-bucket-access',
    'hybrid-service-role',
    'activations',
    'instance-tier',
    'managed-status',
    'supported-os',
  ]);
  expect(
    await page.$$eval('svg#chart-rules g.legend-item text', (ts) => ts.map((t) => t.textContent)),
  ).toEqual(['FAIL', 'ERROR', 'WARN', 'PASS', 'N/A']);
  expect(await labels('chart-vpcs')).toHaveLength(5);
  expect(await labels('chart-accounts')).toEqual(['123456789012']);
  // Every chart is an accessible image with a title; every bar has its figure in a <title>.
  expect(
    await page.$$eval('svg.chart', (svgs) =>
      svgs.every((s) => s.getAttribute('role') === 'img' && s.querySelector('title')),
    ),
  ).toBe(true);
  // The bars are laid out (rendered, not just present).
  const box = await page.locator('svg#chart-causes g.bar rect').first().boundingBox();
  expect(box!.width).toBeGreaterThan(50);
});

browserIt('filtering the table by typing keeps only the matching rows', async () => {
  expect(await visibleIds()).toHaveLength(17);
  expect(await page.textContent('#shown')).toBe('Showing 17 of 17');
  await page.fill('#filter', 'hybrid_role');
  expect((await visibleIds()).sort()).toEqual(
    ['mi-04ba2b7a10112921a', 'mi-0d93087745bce83c2', 'mi-028daa6c6ef7b1258'].sort(),
  );
  expect(await page.textContent('#shown')).toBe('Showing 3 of 17');
  await page.fill('#filter', 'DB-PROXY');
  expect(await visibleIds()).toEqual(['i-0ba9db99ac2cd9a16']);
  await page.fill('#filter', '');
  await page.selectOption('#cause', 'managed-status CONNECTION_LOST');
  expect(await visibleIds()).toHaveLength(5);
  await page.selectOption('#cause', '');
  expect(await visibleIds()).toHaveLength(17);
});

browserIt('sorting by a column orders the rows, and again reverses them', async () => {
  const nameHeader = page.locator('#unmanaged th', { hasText: 'Name' }).locator('button');
  const names = () =>
    page.$$eval('#unmanaged tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
  await nameHeader.click();
  const ascending = await names();
  expect(ascending).toEqual([...ascending].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
  expect(await page.getAttribute('#unmanaged th:nth-child(2)', 'aria-sort')).toBe('ascending');
  await nameHeader.click();
  expect(await names()).toEqual([...ascending].reverse());
  expect(await page.getAttribute('#unmanaged th:nth-child(2)', 'aria-sort')).toBe('descending');
  // Back to the order by cause for the screenshot.
  await page.locator('#unmanaged th', { hasText: 'Cause' }).locator('button').click();
});

browserIt('takes the README screenshot (docs/report.png with UPDATE_DOCS=1)', async () => {
  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.mouse.wheel(0, -10_000);
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
  expect(statSync(SCREENSHOT).size).toBeLessThan(600_000);
});
