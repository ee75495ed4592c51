/**
 * `npm run demo`: the product end to end on the embedded default, no AWS account needed.
 *
 * A real DynamoDB API (dynalite) starts in this process on 127.0.0.1 and the findings table is created
 * from its one definition; the demo fleet is audited and recorded, audited again unchanged, then a
 * second snapshot of the same account a week later (some instances fixed, some broken, some gone) is
 * audited, with one suppression entry. The SNS messages that would be sent go to a local sink and are
 * printed, and so are the Security Hub BatchImportFindings batches (a local sink too): the initial full
 * import, nothing for the unchanged audit, then only the changes. Then the findings table is queried
 * with `ssm-audit findings` exactly as a user would.
 */
import { RULES, RULE_IDS } from '../../rules';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import type { PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { createColors } from 'picocolors';
import { version } from '../../package.json';
import { AlertPublisher, LocalAlertSink } from '../../shared/alerts/publisher';
import { LocalSecurityHubSink, SecurityHubImporter } from '../../shared/alerts/security-hub';
import { auditSnapshot } from '../../shared/engine/audit';
import { type Finding, type SuppressionEntry } from '../../shared/model';
import { SecurityHubExport } from '../../shared/pipeline/export';
import { recordAudit, type RunReport } from '../../shared/pipeline/record-audit';
import { render, resourceNames, ruleTitle } from '../ssm-audit/report';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import { FindingsStore } from '../../shared/store/findings-store';
import { main as cli } from '../ssm-audit/cli';
import { LOCAL_TABLE_DIR, startLocalDynamo } from '../ssm-audit/local-dynamodb';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'demo');
/** A failing instance of both demo snapshots (no public IP behind an internet gateway), suppressed in audit 3. */
const SUPPRESSED_INSTANCE = 'i-038c7712e2df5ffd3';

export interface DemoIo {
  out(text: string): void;
  color: boolean;
  /** Where the findings table is kept (default .ssm-audit/local-table). */
  tableDir?: string;
}

export async function runDemo(io: DemoIo): Promise<number> {
  const c = createColors(io.color);
  const heading = (text: string) => io.out(`\n${c.bold(c.cyan(`━━ ${text}`))}\n\n`);
  // The table stays on disk after the demo (a fresh one each run), for `ssm-audit findings --local`.
  rmSync(io.tableDir ?? LOCAL_TABLE_DIR, { recursive: true, force: true });
  mkdirSync(path.dirname(io.tableDir ?? LOCAL_TABLE_DIR), { recursive: true });
  const local = await startLocalDynamo(undefined, { dir: io.tableDir ?? LOCAL_TABLE_DIR });
  try {
    io.out(
      `${c.bold('SSM readiness auditor — demo')} (embedded default: DynamoDB API by dynalite on ${local.endpoint}, table ${local.tableName}, SNS to a local sink)\n`,
    );
    const store = new FindingsStore({ client: local.doc, tableName: local.tableName });
    const sink = new LocalAlertSink();
    const publisher = new AlertPublisher(sink);
    // Security Hub export (deploy parameter securityHub=true): BatchImportFindings into a local sink.
    const securityHub = new LocalSecurityHubSink();
    const exporter = new SecurityHubExport(new SecurityHubImporter(securityHub), {
      auditorVersion: version,
      ruleTitle,
    });

    const audit = async (
      file: string,
      label: string,
      showReport: boolean,
      suppressionsFor?: (collectedAt: Date) => SuppressionEntry[],
    ): Promise<RunReport> => {
      const snapshot = await loadSnapshotFile(path.join(FIXTURES, file));
      const now = new Date(snapshot.collectedAt);
      const suppressions = suppressionsFor?.(now) ?? [];
      const result = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now, suppressions });
      heading(
        `${label}: ${file} (account ${snapshot.accountId}, ${snapshot.region}, collected ${snapshot.collectedAt})`,
      );
      for (const entry of suppressions)
        io.out(
          `${c.bold('Suppression')} ${entry.id}: ${JSON.stringify(entry.match)} — "${entry.reason}", owner ${entry.owner}, expires ${entry.expiresAt} (${result.findings.filter((f) => f.suppressed?.id === entry.id).length} findings suppressed)\n`,
        );
      if (showReport) {
        io.out(
          render(result.findings, 'table', {
            color: io.color,
            names: resourceNames(snapshot),
            maxListed: 12,
            title: 'Audit report',
          }),
        );
      }
      const sentBefore = sink.sent.length;
      const batchesBefore = securityHub.batches.length;
      const report = await recordAudit({
        store,
        publisher,
        exporter,
        snapshot,
        result,
        ruleIds: RULE_IDS,
        now,
        runId: `demo-${label.toLowerCase().replace(/\W+/g, '-')}`,
      });
      printRun(report, sink.sent.slice(sentBefore));
      printSecurityHub(report, securityHub.batches.slice(batchesBefore));
      printPending(result.findings, resourceNames(snapshot));
      return report;
    };

    /** What Security Hub holds after the batches so far: Compliance.Status per finding Id. */
    const imported = new Map<string, string>();
    /** The compact line of one ASFF finding: the tail of its Id, Compliance.Status (from the last import), RecordState. */
    const asffLine = (f: AwsSecurityFinding) => {
      const tail = (f.Id ?? '').split('/').slice(-2).join('/');
      const status = f.Compliance?.Status ?? '';
      const before = imported.get(f.Id ?? '');
      const compliance = before && before !== status ? `${before} → ${status}` : status;
      const state = f.RecordState === 'ARCHIVED' ? c.dim('ARCHIVED') : c.yellow('ACTIVE  ');
      const fields = f.ProductFields ?? {};
      const why = fields['ssm-readiness/suppressionId']
        ? `suppressed by ${fields['ssm-readiness/suppressionId']}`
        : fields['ssm-readiness/closeReason']
          ? `closed: ${fields['ssm-readiness/closeReason']}`
          : (fields['ssm-readiness/reason'] ?? '');
      return `${tail.padEnd(46)} ${compliance.padEnd(20)} ${state}  ${c.dim(why)}`;
    };
    const kindOf = (f: AwsSecurityFinding) => {
      const fields = f.ProductFields ?? {};
      if (f.RecordState !== 'ARCHIVED') return 'active';
      if (fields['ssm-readiness/suppressionId']) return 'suppressed';
      if (fields['ssm-readiness/closeReason']) return 'closed';
      return 'passing';
    };
    const kinds = (findings: readonly AwsSecurityFinding[]) => {
      const counts = new Map<string, number>();
      for (const f of findings) counts.set(kindOf(f), (counts.get(kindOf(f)) ?? 0) + 1);
      return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
    };

    const printSecurityHub = (report: RunReport, batches: AwsSecurityFinding[][]) => {
      const exports = report.exports;
      const all = batches.flat();
      io.out(
        `${c.bold('Security Hub')} (BatchImportFindings to a local sink): ${
          all.length === 0
            ? 'nothing to send'
            : `${all.length} finding(s) in ${batches.length} batch(es)${exports?.initialImport ? ' — the initial full import (first enablement), paged by 100' : ' — only what changed'}`
        }${exports ? `; accepted ${exports.accepted}, failed ${exports.failed}` : ''}\n`,
      );
      // The first batches in detail (a few lines each), the rest summed up.
      const detailed = batches.length > 3 ? 2 : batches.length;
      const shown = 3;
      batches.slice(0, detailed).forEach((batch, i) => {
        io.out(`  batch ${i + 1}: ${batch.length} finding(s) (${kinds(batch)})\n`);
        for (const f of batch.slice(0, shown)) io.out(`    ${asffLine(f)}\n`);
        if (batch.length > shown) io.out(c.dim(`    … ${batch.length - shown} more\n`));
      });
      const rest = batches.slice(detailed).flat();
      if (rest.length)
        io.out(
          `  batches ${detailed + 1}–${batches.length}: ${rest.length} finding(s) (${kinds(rest)}), at most 100 per batch\n`,
        );
      if (!exports?.initialImport && all.length) {
        // One example of each kind of update in this audit's batches.
        const failedBefore = (f: AwsSecurityFinding) => imported.get(f.Id ?? '') === 'FAILED';
        const examples: [string, AwsSecurityFinding | undefined][] = [
          [
            'Fixed instance (archived)',
            all.find(
              (f) => kindOf(f) === 'passing' && failedBefore(f) && f.Id?.endsWith('/managed-status') === true,
            ) ?? all.find((f) => kindOf(f) === 'passing' && failedBefore(f)),
          ],
          [
            'Suppressed (status kept, archived)',
            all.find((f) => kindOf(f) === 'suppressed' && f.Compliance?.Status === 'FAILED') ??
              all.find((f) => kindOf(f) === 'suppressed'),
          ],
          ['Resource gone (closed, archived)', all.find((f) => kindOf(f) === 'closed')],
          [
            'Regression (ACTIVE again)',
            all.find((f) => kindOf(f) === 'active' && imported.has(f.Id ?? '') && !failedBefore(f)),
          ],
          ['New failure (ACTIVE)', all.find((f) => kindOf(f) === 'active' && !imported.has(f.Id ?? ''))],
        ];
        io.out(`  ${c.bold('Among them')}:\n`);
        for (const [title, f] of examples) if (f) io.out(`    ${title.padEnd(35)} ${asffLine(f)}\n`);
      }
      for (const f of all) imported.set(f.Id ?? '', f.Compliance?.Status ?? '');
    };

    /** Instances started moments before the audit: within the launch grace, reported, never alerted. */
    const printPending = (findings: readonly Finding[], names: ReadonlyMap<string, string>) => {
      const pending = findings.filter(
        (f) => f.ruleId === 'managed-status' && f.reason === 'REGISTRATION_PENDING',
      );
      if (pending.length === 0) return;
      io.out(`${c.bold('Registration pending')} (launch grace: a finding, no alert):\n`);
      for (const f of pending) {
        const due = (f.evidence as { registrationDueAt?: string }).registrationDueAt;
        io.out(
          `  ${c.cyan(f.status)} ${f.reason} ${f.resourceId} ${names.get(f.resourceId) ?? ''}: launched ${String((f.evidence as { launchTime?: string }).launchTime)}, not registered yet; the deployed product re-checks it after ${due} (and alerts then if it is still unregistered)\n`,
        );
      }
    };

    const printRun = (report: RunReport, sent: PublishBatchRequestEntry[]) => {
      const { counts, writes } = report;
      io.out(
        `${c.bold('Findings table')}: ${counts.findings} findings — ${counts.new} new, ${counts.changed} changed, ${counts.closed} closed, ${counts.unchanged} unchanged\n` +
          `  wrote ${writes.findingWrites} finding(s), ${writes.historyRecords} history record(s), ${writes.alertClears} outbox clear(s), ${writes.runRecords} run summary; ${writes.batchRequests} BatchWriteItem request(s)\n`,
      );
      io.out(
        `${c.bold('SNS messages')}: ${sent.length === 0 ? 'none' : `${sent.length} (PublishBatch requests: ${report.publish?.requests ?? 0})`}\n`,
      );
      for (const entry of sent) {
        const a = entry.MessageAttributes ?? {};
        const attr = (k: string) => a[k]?.StringValue ?? '';
        io.out(
          `  ${c.yellow(attr('kind').padEnd(11))} ${entry.Subject}  ${c.dim(`[severity=${attr('severity')} ruleId=${attr('ruleId')} status=${attr('status')}]`)}\n`,
        );
      }
      const digest = sent.find((e) => e.MessageAttributes?.kind?.StringValue === 'DIGEST');
      const example =
        sent.find((e) => e.MessageAttributes?.kind?.StringValue === 'REGRESSION') ??
        sent.find((e) => e.MessageAttributes?.kind?.StringValue === 'NEW_FAILURE');
      for (const [title, entry] of [
        ['The digest, as an email subscriber reads it', digest],
        ['One transition alert, as an email subscriber reads it', example],
      ] as const) {
        if (!entry) continue;
        const email = (JSON.parse(entry.Message ?? '{}') as { email?: string }).email ?? '';
        io.out(
          `\n  ${c.bold(title)}:\n${email
            .split('\n')
            .slice(0, 28)
            .map((l) => `  │ ${l}`)
            .join('\n')}\n`,
        );
      }
    };

    await audit('demo-fleet.json', 'Audit 1', true);
    const second = await audit('demo-fleet.json', 'Audit 2 (nothing changed)', false);
    io.out(
      second.writes.findingWrites === 0 && second.messages.length === 0
        ? c.green('  → The unchanged audit wrote no findings and sent no alerts (only its run summary).\n')
        : c.red('  → Unexpected: the unchanged audit wrote findings or sent alerts.\n'),
    );
    // A suppression entry for one failing instance, expiring 30 days after the snapshot was collected.
    const suppressions = (collectedAt: Date): SuppressionEntry[] => [
      {
        id: 'legacy-build-host',
        match: { resourceId: SUPPRESSED_INSTANCE },
        reason: 'Legacy build host, managed by the CI team outside SSM until its decommissioning',
        owner: 'ci-team@example.com',
        expiresAt: new Date(collectedAt.getTime() + 30 * 86_400_000).toISOString(),
        createdAt: collectedAt.toISOString(),
      },
    ];
    await audit(
      'demo-fleet-after.json',
      'Audit 3 (a week later: some fixed, some broken, some gone, one suppressed)',
      false,
      suppressions,
    );

    const query = async (title: string, args: string[]) => {
      heading(
        `${title}\n   $ ssm-audit findings ${args.join(' ')} --endpoint-url ${local.endpoint} --table ${local.tableName}`,
      );
      await cli(
        [
          'node',
          'ssm-audit',
          'findings',
          ...args,
          '--endpoint-url',
          local.endpoint,
          '--table',
          local.tableName,
          '--explain',
          ...(io.color ? [] : ['--no-color']),
        ],
        {
          out: io.out,
          err: (text) => io.out(c.dim(`  query: ${text}`)),
          isTTY: io.color,
        },
      );
    };
    await query('Query: every failing finding, most severe first', []);
    await query('Query: one rule in one status', ['--rule', 'network-path', '--status', 'FAIL']);
    await query("Query: one instance's status history", ['--history', 'i-0410695edadcb9d03']);
    await query('Query: the recent runs', ['--runs']);
    // The HTML report of the demo fleet from the table: the latest audit, with the trend of the three runs.
    const htmlFile = path.join(path.dirname(io.tableDir ?? LOCAL_TABLE_DIR), 'report.html');
    heading(
      `HTML report\n   $ ssm-audit report --html ${htmlFile} --endpoint-url ${local.endpoint} --table ${local.tableName}`,
    );
    await cli(
      [
        'node',
        'ssm-audit',
        'report',
        '--html',
        htmlFile,
        '--endpoint-url',
        local.endpoint,
        '--table',
        local.tableName,
      ],
      { out: io.out, err: io.out, isTTY: io.color },
    );
    io.out(`Open it in a browser: ${c.bold(path.resolve(htmlFile))}\n`);
    // The fix plan of the demo fleet: the fewest fixes that make the most nodes manageable.
    heading('Fix plan\n   $ ssm-audit plan --snapshot test/fixtures/demo/demo-fleet.json');
    await cli(['node', 'ssm-audit', 'plan', '--snapshot', path.join(FIXTURES, 'demo-fleet.json')], {
      out: io.out,
      err: io.out,
      isTTY: io.color,
    });
    // The same plan from the findings table alone: the facts the last whole-region audit kept with it.
    heading(
      `Fix plan from the findings table (the latest audit, Audit 3)\n   $ ssm-audit plan --endpoint-url ${local.endpoint} --table ${local.tableName}`,
    );
    let fromTable = '';
    await cli(
      [
        'node',
        'ssm-audit',
        'plan',
        '--endpoint-url',
        local.endpoint,
        '--table',
        local.tableName,
        ...(io.color ? [] : ['--no-color']),
      ],
      { out: (t) => (fromTable += t), err: io.out, isTTY: io.color },
    );
    // Its head: the title, the source, before and after (up to the first blank line).
    const planLines = fromTable.trimEnd().split('\n');
    const head = planLines.indexOf('') > 0 ? planLines.indexOf('') : planLines.length;
    io.out(`${planLines.slice(0, head).join('\n')}\n`);
    io.out(c.dim(`  … ${planLines.length - head} more lines: npx ssm-audit plan --local\n`));
    io.out(
      `\nThe findings table stays in ${io.tableDir ?? LOCAL_TABLE_DIR}; query it after the demo with ${c.bold('npx ssm-audit findings --local')} (e.g. --status FAIL, --history i-0410695edadcb9d03, --runs).\n`,
    );
    return 0;
  } finally {
    await local.stop();
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  runDemo({
    out: (t) => process.stdout.write(t),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
  }).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
