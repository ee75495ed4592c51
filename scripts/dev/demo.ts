/**
 * `npm run demo`: the product end to end on the embedded default, no AWS account needed.
 *
 * A real DynamoDB API (dynalite) starts in this process on 127.0.0.1 and the findings table is created
 * from its one definition; the demo fleet is audited and recorded, audited again unchanged, then a
 * second snapshot of the same account a week later (some instances fixed, some broken, some gone) is
 * audited. The SNS messages that would be sent go to a local sink and are printed; then the findings
 * table is queried with `ssm-audit findings` exactly as a user would.
 */
import { RULES, RULE_IDS } from '../../rules';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { createColors } from 'picocolors';
import { AlertPublisher, LocalAlertSink } from '../../shared/alerts/publisher';
import { auditSnapshot } from '../../shared/engine/audit';
import { type Finding } from '../../shared/model';
import { recordAudit, type RunReport } from '../../shared/pipeline/record-audit';
import { render, resourceNames } from '../ssm-audit/report';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import { FindingsStore } from '../../shared/store/findings-store';
import { main as cli } from '../ssm-audit/cli';
import { LOCAL_TABLE_DIR, startLocalDynamo } from '../ssm-audit/local-dynamodb';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'demo');

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

    const audit = async (file: string, label: string, showReport: boolean): Promise<RunReport> => {
      const snapshot = await loadSnapshotFile(path.join(FIXTURES, file));
      const now = new Date(snapshot.collectedAt);
      const result = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now });
      heading(
        `${label}: ${file} (account ${snapshot.accountId}, ${snapshot.region}, collected ${snapshot.collectedAt})`,
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
      const report = await recordAudit({
        store,
        publisher,
        snapshot,
        result,
        ruleIds: RULE_IDS,
        now,
        runId: `demo-${label.toLowerCase().replace(/\W+/g, '-')}`,
      });
      printRun(report, sink.sent.slice(sentBefore));
      printPending(result.findings, resourceNames(snapshot));
      return report;
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
    await audit('demo-fleet-after.json', 'Audit 3 (a week later: some fixed, some broken, some gone)', false);

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
