import { measureReport, renderReportRows, REPORT_TARGET_BYTES } from '../../scripts/dev/bench-report';

/** The `npm run bench` section of the report and plan measures what it prints (figures are not asserted). */
it('measures the report, the plan and the plan facts of a synthetic fleet', () => {
  const row = measureReport(300);
  expect(row.instances).toBe(300);
  expect(row.nodes).toBeGreaterThan(300);
  expect(row.steps).toBeGreaterThan(0);
  expect(row.reportBytes).toBeGreaterThan(10_000);
  expect(row.reportBytes).toBeLessThan(REPORT_TARGET_BYTES);
  expect(row.factsParts).toBe(1);
  const table = renderReportRows([row]).split('\n');
  expect(table[0]).toMatch(/^instances\s+nodes counted\s+HTML KB/);
  expect(table[1]).toMatch(/^\s*300\s+\d+\s+\d+\s+[\d.]+\s+ok \(< 2 MB\)/);
});
