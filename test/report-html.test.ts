import { readFileSync } from 'node:fs';
import { RULES } from '../rules';
import { auditSnapshot } from '../shared/engine/audit';
import type { Finding } from '../shared/model';
import { renderHtmlReport, scriptJson } from '../shared/report/html';
import { barChart, escapeHtml, lineChart, stackedBarChart } from '../shared/report/svg';
import { instanceVpcs, trendFromRuns } from '../shared/report/trend';
import { parseSnapshot } from '../shared/snapshot/load';
import { resourceNames, toTable } from '../scripts/ssm-audit/report';
import { buildSyntheticSnapshot } from './support/synthetic';

/** The HTML report's renderer, without a browser (test/browser/ runs it in Chromium). */

const GENERATED_AT = '2026-11-23T10:05:00.000Z';
const RULE_TITLES = Object.fromEntries(RULES.map((r) => [r.meta.id, r.meta.title]));

function auditFile(file: string) {
  const snapshot = parseSnapshot(JSON.parse(readFileSync(file, 'utf8')));
  const now = new Date(snapshot.collectedAt);
  return { snapshot, findings: auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now }).findings };
}

const demo = auditFile('test/fixtures/demo/demo-fleet.json');
const demoHtml = renderHtmlReport({
  title: 'Demo fleet',
  generatedAt: GENERATED_AT,
  findings: demo.findings,
  names: resourceNames(demo.snapshot),
  vpcOf: instanceVpcs(demo.snapshot),
  ruleTitles: RULE_TITLES,
});

/** The rows the page's script builds from the embedded data, as the browser would. */
function tableRows(html: string): string[][] {
  const json = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
  const data = JSON.parse(json) as {
    strings: string[];
    rows: [string, string, ...number[]][];
    idMark: string;
  };
  const s = (i: number | undefined) => data.strings[i!]!;
  return data.rows.map(([id, name, a, r, v, c, f]) => [
    id,
    name,
    s(a),
    s(r),
    s(v),
    s(c),
    s(f).split(data.idMark).join(id),
  ]);
}

describe('renderHtmlReport on the demo fleet', () => {
  it('states the same headline as the text report', () => {
    const text = toTable(demo.findings, { color: false, summaryOnly: true }).split('\n')[0]!;
    expect(text).toBe(
      '11 of 43 running instances and 6 of 844 hybrid nodes cannot be managed by Systems Manager.',
    );
    expect(demoHtml).toContain(`<p id="headline" class="bad">${text}</p>`);
  });

  it('is one self-contained document: nothing fetched (no src, href, url() or @import)', () => {
    expect(demoHtml).toMatch(/^<!doctype html>/);
    expect(demoHtml).not.toMatch(/\b(src|href)\s*=/i);
    expect(demoHtml).not.toMatch(/url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)[^"'\s]*\.(js|css)/i);
    expect(demoHtml).toContain('@media print');
    expect(demoHtml).toContain(`<time datetime="${GENERATED_AT}">`);
  });

  it('lists every unmanaged node once with its cause and its own fix', () => {
    const rows = tableRows(demoHtml);
    const unmanaged = demo.findings.filter((f) => f.ruleId === 'managed-status' && f.status === 'FAIL');
    expect(rows.map((r) => r[0]).sort()).toEqual(unmanaged.map((f) => f.resourceId).sort());
    const proxy = rows.find((r) => r[1] === 'db-proxy-2')!;
    expect(proxy.slice(4, 6)).toEqual(['vpc-0216170161bf90c7d', 'instance-permissions DHMC_REQUIRES_IMDSV2']);
    expect(proxy[6]).toBe(
      `aws ec2 modify-instance-metadata-options --instance-id ${proxy[0]} --http-tokens required --http-endpoint enabled`,
    );
    expect(rows.filter((r) => r[0]!.startsWith('mi-')).every((r) => r[4] === 'hybrid (no VPC)')).toBe(true);
  });

  it('draws the root causes, the status by rule, the VPCs and the account; no trend without runs', () => {
    const bars = (id: string) =>
      [
        ...(new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(demoHtml)?.[0] ?? '').matchAll(
          /<g class="bar" data-label="([^"]*)"(?: data-value="(\d+)")?/g,
        ),
      ].map((m) => [m[1], m[2] === undefined ? undefined : Number(m[2])]);
    expect(bars('chart-causes')[0]).toEqual(['managed-status CONNECTION_LOST', 5]);
    expect(bars('chart-causes').reduce((n, b) => n + (b[1] as number), 0)).toBe(17);
    expect(bars('chart-rules').map((b) => b[0])).toEqual([...new Set(demo.findings.map((f) => f.ruleId))]);
    expect(bars('chart-vpcs')[0]).toEqual(['hybrid (no VPC)', 6]);
    expect(bars('chart-accounts')).toEqual([['123456789012', 17]]);
    expect(demoHtml).not.toContain('chart-trend');
  });
});

describe('user data is inert', () => {
  const evil = '<img src=x onerror=alert(1)></script><script>alert(2)</script>';
  const finding: Finding = {
    accountId: '123456789012',
    region: 'eu-west-1',
    resourceType: 'EC2Instance',
    resourceId: 'i-0123456789abcdef0',
    ruleId: 'managed-status',
    status: 'FAIL',
    severity: 'HIGH',
    reason: 'NOT_REGISTERED',
    message: `not registered "${evil}"`,
    evidence: {},
    remediation: `aws ssm x --instance-id i-0123456789abcdef0 '${evil}'`,
    reference: 'https://docs.aws.amazon.com/',
    evaluatedAt: GENERATED_AT,
  };
  const html = renderHtmlReport({
    title: `Fleet ${evil}`,
    generatedAt: GENERATED_AT,
    findings: [finding],
    names: new Map([[finding.resourceId, evil]]),
    vpcOf: new Map([[finding.resourceId, `vpc-${evil}`]]),
    ruleTitles: { 'managed-status': evil },
  });

  it('escapes markup in the page and in the embedded data', () => {
    // The only script elements are the report's own two; no attribute of the data becomes markup.
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/onerror=alert\(1\)>/);
    expect(html).toContain('Fleet &lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;');
    // The data round-trips exactly.
    expect(tableRows(html)[0]!.slice(0, 2)).toEqual([finding.resourceId, evil]);
  });

  it('scriptJson never closes its script element', () => {
    expect(scriptJson({ a: '</script><!--\u2028&' })).toBe(
      '{"a":"\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"}',
    );
  });
});

describe('charts', () => {
  it('a bar per item with its figure in a <title>, labels escaped and cut to fit', () => {
    const svg = barChart('c', 'T <1>', [
      { label: 'a<b', value: 3 },
      { label: 'x'.repeat(60), value: 1 },
    ]);
    expect(svg.match(/<g class="bar"/g)).toHaveLength(2);
    expect(svg).toContain('<title id="c-title">T &lt;1&gt;</title>');
    expect(svg).toContain('<title>a&lt;b: 3</title>');
    expect(svg).toContain(`>${'x'.repeat(41)}…</text>`);
    expect(svg).toMatch(/role="img" aria-labelledby="c-title"/);
  });

  it('stacked bars: one segment per non-zero status, a legend entry per key', () => {
    const svg = stackedBarChart(
      's',
      'S',
      [
        {
          label: 'r',
          segments: [
            { key: 'A', value: 2 },
            { key: 'B', value: 0 },
          ],
        },
      ],
      [
        { key: 'A', label: 'A', colour: '#000' },
        { key: 'B', label: 'B', colour: '#fff' },
      ],
    );
    expect(svg.match(/<g class="segment"/g)).toHaveLength(1);
    expect(svg.match(/<g class="legend-item"/g)).toHaveLength(2);
  });

  it('trend: a point per run, oldest first', () => {
    const svg = lineChart('t', 'T', [
      { label: 'one', value: 4 },
      { label: 'two', value: 2 },
    ]);
    expect(
      [...svg.matchAll(/class="point" data-label="(\w+)" data-value="(\d+)"/g)].map((m) => m[1]),
    ).toEqual(['one', 'two']);
  });
});

describe('trendFromRuns', () => {
  const stored = [
    // Unmanaged since the second run.
    {
      ruleId: 'managed-status',
      resourceType: 'EC2Instance',
      status: 'FAIL',
      previousStatus: 'PASS',
      firstSeenAt: '2026-01-01T00:00:00Z',
      statusChangedAt: '2026-01-02T00:00:00Z',
    },
    // Fixed at the third run.
    {
      ruleId: 'managed-status',
      resourceType: 'EC2Instance',
      status: 'PASS',
      previousStatus: 'FAIL',
      firstSeenAt: '2026-01-01T00:00:00Z',
      statusChangedAt: '2026-01-03T00:00:00Z',
    },
    // New and unmanaged at the third run.
    {
      ruleId: 'managed-status',
      resourceType: 'ManagedInstance',
      status: 'FAIL',
      previousStatus: null,
      firstSeenAt: '2026-01-03T00:00:00Z',
      statusChangedAt: '2026-01-03T00:00:00Z',
    },
    {
      ruleId: 'network-path',
      resourceType: 'EC2Instance',
      status: 'FAIL',
      previousStatus: null,
      firstSeenAt: '2026-01-01T00:00:00Z',
      statusChangedAt: '2026-01-01T00:00:00Z',
    },
  ] as const;
  it('reads each run back from the stored statuses, or takes the count a run recorded', () => {
    const runs = ['2026-01-03T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'].map((asOf) => ({
      asOf,
      finishedAt: asOf,
      counts: {},
    }));
    expect(trendFromRuns(runs, stored).map((p) => p.unmanaged)).toEqual([1, 2, 2]);
    expect(trendFromRuns([{ finishedAt: '2026-01-04T00:00:00Z', counts: { unmanaged: 7 } }], stored)).toEqual(
      [{ at: '2026-01-04T00:00:00Z', unmanaged: 7 }],
    );
  });
});

it('a 10,000-instance fleet (11,000 nodes) stays under 2 MB', () => {
  const snapshot = parseSnapshot(JSON.parse(JSON.stringify(buildSyntheticSnapshot({ instances: 10_000 }))));
  const now = new Date(snapshot.collectedAt);
  const { findings } = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now });
  const html = renderHtmlReport({
    title: 'Synthetic',
    generatedAt: GENERATED_AT,
    findings,
    names: resourceNames(snapshot),
    vpcOf: instanceVpcs(snapshot),
    trend: [{ at: GENERATED_AT, unmanaged: 1 }],
    ruleTitles: RULE_TITLES,
  });
  const unmanaged = findings.filter((f) => f.ruleId === 'managed-status' && f.status === 'FAIL').length;
  expect(unmanaged).toBeGreaterThan(1000);
  expect(tableRows(html)).toHaveLength(unmanaged);
  expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
  // eslint-disable-next-line no-console
  console.log(
    `synthetic 10,000 instances: ${unmanaged} unmanaged nodes, HTML ${Buffer.byteLength(html)} bytes`,
  );
});
