import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { AlertPublisher, SnsAlertSink } from '../../shared/alerts/publisher';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { documentClient, dynamoClient } from '../../shared/aws/dynamodb';
import { REGION_NAME } from '../../shared/snapshot/schema';
import { FindingsStore } from '../../shared/store/findings-store';
import { RecheckScheduler, type RecheckConfig } from './recheck';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { assumedRole, DEFAULT_MEMBER_ROLE, MemberCredentials, partitionOf } from '../../shared/aws/assume';
import type { AccountSelection } from '../../shared/collect/organization';
import { OrgRunStore } from '../../shared/store/org-runs';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { S3Client } from '@aws-sdk/client-s3';
import { ReportPublisher } from './report';
import { version } from '../../package.json';
import { RULES } from '../../rules';
import { SecurityHubImporter, SecurityHubSink } from '../../shared/alerts/security-hub';
import { SecurityHubExport, type ExportTarget } from '../../shared/pipeline/export';

/**
 * What every handler shares, built once per Lambda container (module scope, as Powertools recommends):
 * configuration from the environment (validated), the findings store, the alert publisher, SDK clients
 * per audited region, the structured logger and the metrics.
 */

export const lambdaEnvSchema = z.object({
  FINDINGS_TABLE: z.string().min(3, 'FINDINGS_TABLE must name the findings table'),
  ALERT_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, 'ALERT_TOPIC_ARN must be an SNS topic ARN')
    .optional(),
  AWS_REGION: z.string().regex(REGION_NAME).optional(),
  /** Comma-separated regions the scheduled audit covers (default: the function's own region). */
  AUDIT_REGIONS: z.string().optional(),
  HISTORY_TTL_DAYS: z.coerce.number().int().positive().default(90),
  MAX_ALERTS_PER_RUN: z.coerce.number().int().nonnegative().default(50),
  /** R7 launch grace in minutes (the deploy parameter registrationGraceMinutes); 0 turns it off. */
  REGISTRATION_GRACE_MINUTES: z.coerce.number().int().nonnegative().max(1440).default(30),
  /** The three re-check settings: all set (the event-audit function) or none (no re-checks scheduled). */
  RECHECK_SCHEDULE_GROUP: z
    .string()
    .regex(
      /^[0-9a-zA-Z-_.]{1,64}$/,
      'RECHECK_SCHEDULE_GROUP must name an EventBridge Scheduler schedule group',
    )
    .optional(),
  RECHECK_ROLE_ARN: z
    .string()
    .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/, 'RECHECK_ROLE_ARN must be an IAM role ARN')
    .optional(),
  /** The bucket the scheduled audit publishes its HTML report to (deploy parameter reportBucket). */
  REPORT_BUCKET: z.string().optional(),
  /** Security Hub export (DESIGN §8): the deploy parameter securityHub. */
  SECURITY_HUB: z.enum(['true', 'false'], 'SECURITY_HUB must be true or false').default('false'),
  /** Organization mode (DESIGN §7): the job queue, and the member role assumed in each account. */
  ORG_JOB_QUEUE_URL: z.string().url('ORG_JOB_QUEUE_URL must be the job queue URL').optional(),
  ORG_MEMBER_ROLE_NAME: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, 'ORG_MEMBER_ROLE_NAME must be an IAM role name')
    .optional(),
  ORG_EXTERNAL_ID: z.string().optional(),
  /** A management-account role to read Organizations through (when the auditor's account cannot). */
  ORG_MANAGEMENT_ROLE_ARN: z
    .string()
    .regex(
      /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/,
      'ORG_MANAGEMENT_ROLE_ARN must be an IAM role ARN',
    )
    .optional()
    .or(z.literal('')),
  /** Comma-separated: a static account list (standalone accounts), include/exclude filters. */
  ORG_ACCOUNTS: z
    .string()
    .refine(
      (value) => list(value).every((id) => /^\d{12}$/.test(id)),
      'ORG_ACCOUNTS must be comma-separated 12-digit account ids',
    )
    .optional(),
  /** Organizations reads and SQS sends the planner has in flight (Organizations throttles). */
  ORG_PLANNER_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(8),
  ORG_INCLUDE_OUS: z.string().optional(),
  ORG_EXCLUDE_ACCOUNTS: z.string().optional(),
  ORG_EXCLUDE_OUS: z.string().optional(),
  /** SQS deliveries of a job before it goes to the dead-letter queue (the queue's maxReceiveCount). */
  ORG_MAX_RECEIVES: z.coerce.number().int().positive().default(3),
  RECHECK_TARGET_ARN: z
    .string()
    .regex(
      /^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+$/,
      'RECHECK_TARGET_ARN must be a Lambda function ARN',
    )
    .optional(),
});

export interface LambdaEnv {
  table: string;
  topicArn?: string;
  regions: string[];
  historyTtlDays: number;
  maxAlertsPerRun: number;
  registrationGraceMinutes: number;
  /** Where re-checks after the launch grace are scheduled; absent: none are. */
  recheck?: RecheckConfig;
  /** AUDIT_REGIONS was set (Organization mode otherwise audits every enabled region). */
  regionsConfigured: boolean;
  /** Findings are exported to Security Hub (deploy parameter securityHub). */
  securityHub: boolean;
  reportBucket?: string;
  org: OrgEnv;
}

export interface OrgEnv {
  queueUrl?: string;
  memberRoleName: string;
  externalId?: string;
  managementRoleArn?: string;
  selection: AccountSelection;
  maxReceives: number;
  plannerConcurrency: number;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function parseLambdaEnv(env: NodeJS.ProcessEnv): LambdaEnv {
  const parsed = lambdaEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`invalid environment ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  // An empty AUDIT_REGIONS (the deployment parameter's default) means the function's own region.
  const regions = (e.AUDIT_REGIONS?.trim() || e.AWS_REGION || '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = regions.filter((r) => !REGION_NAME.test(r));
  if (regions.length === 0)
    throw new ConfigurationError('no region to audit: set AUDIT_REGIONS or AWS_REGION');
  if (bad.length)
    throw new ConfigurationError(`invalid environment AUDIT_REGIONS: ${bad.join(', ')} is not a region name`);
  const recheck = [e.RECHECK_SCHEDULE_GROUP, e.RECHECK_ROLE_ARN, e.RECHECK_TARGET_ARN];
  if (recheck.some(Boolean) && !recheck.every(Boolean))
    throw new ConfigurationError(
      'invalid environment: RECHECK_SCHEDULE_GROUP, RECHECK_ROLE_ARN and RECHECK_TARGET_ARN go together (set all three or none)',
    );
  return {
    table: e.FINDINGS_TABLE,
    topicArn: e.ALERT_TOPIC_ARN,
    regions: [...new Set(regions)],
    historyTtlDays: e.HISTORY_TTL_DAYS,
    maxAlertsPerRun: e.MAX_ALERTS_PER_RUN,
    registrationGraceMinutes: e.REGISTRATION_GRACE_MINUTES,
    regionsConfigured: Boolean(e.AUDIT_REGIONS?.trim()),
    securityHub: e.SECURITY_HUB === 'true',
    ...(e.REPORT_BUCKET?.trim() ? { reportBucket: e.REPORT_BUCKET.trim() } : {}),
    org: {
      ...(e.ORG_JOB_QUEUE_URL ? { queueUrl: e.ORG_JOB_QUEUE_URL } : {}),
      memberRoleName: e.ORG_MEMBER_ROLE_NAME ?? DEFAULT_MEMBER_ROLE,
      ...(e.ORG_EXTERNAL_ID ? { externalId: e.ORG_EXTERNAL_ID } : {}),
      ...(e.ORG_MANAGEMENT_ROLE_ARN ? { managementRoleArn: e.ORG_MANAGEMENT_ROLE_ARN } : {}),
      selection: {
        ...(list(e.ORG_ACCOUNTS).length ? { accounts: [...new Set(list(e.ORG_ACCOUNTS))] } : {}),
        includeOus: list(e.ORG_INCLUDE_OUS),
        excludeAccounts: list(e.ORG_EXCLUDE_ACCOUNTS),
        excludeOus: list(e.ORG_EXCLUDE_OUS),
      },
      maxReceives: e.ORG_MAX_RECEIVES,
      plannerConcurrency: e.ORG_PLANNER_CONCURRENCY,
    },
    ...(e.RECHECK_SCHEDULE_GROUP && e.RECHECK_ROLE_ARN && e.RECHECK_TARGET_ARN
      ? {
          recheck: {
            groupName: e.RECHECK_SCHEDULE_GROUP,
            roleArn: e.RECHECK_ROLE_ARN,
            targetArn: e.RECHECK_TARGET_ARN,
          },
        }
      : {}),
  };
}

export interface Runtime {
  env: LambdaEnv;
  store: FindingsStore;
  publisher?: AlertPublisher;
  /** Schedules the re-checks after the launch grace (the event-audit function); absent elsewhere. */
  rechecks?: RecheckScheduler;
  clientsFor(region: string): AwsClients;
  logger: Logger;
  metrics: Metrics;
  /** The time of collections and runs (an audit is as of its collection). Tests pass a fixed one. */
  clock: () => Date;
  /** Organization mode: Organizations, the job queue, member-account clients and run progress. */
  org: OrgRuntime;
  /**
   * Where an audit of the function's own account exports its changes (Security Hub in that region),
   * or undefined when export is off. Security Hub takes findings for the default product only from the
   * account they belong to, so member accounts' audits export nothing.
   */
  exporterFor(region: string): ExportTarget | undefined;
  /** Publishes the scheduled audit's HTML report (absent unless the deployment has a report bucket). */
  reports?: ReportPublisher;
}

export interface OrgRuntime {
  organizations: OrganizationsClient;
  sqs: SQSClient;
  runs: OrgRunStore;
  credentials: MemberCredentials;
  /** SDK clients in a member account and region, with the member role's cached credentials. */
  clientsFor(accountId: string, region: string): AwsClients;
}

export interface RuntimeOptions {
  clock?: () => Date;
}

export const SERVICE_NAME = 'ssm-readiness-auditor';

export function createRuntime(env: NodeJS.ProcessEnv = process.env, options: RuntimeOptions = {}): Runtime {
  const config = parseLambdaEnv(env);
  const clients = new Map<string, AwsClients>();
  const topicRegion = config.topicArn?.split(':')[3];
  const doc = documentClient(dynamoClient());
  const exporters = new Map<string, ExportTarget>();
  return {
    env: config,
    store: new FindingsStore({
      client: doc,
      tableName: config.table,
      historyTtlDays: config.historyTtlDays,
    }),
    publisher: config.topicArn
      ? new AlertPublisher(new SnsAlertSink(new SNSClient({ region: topicRegion }), config.topicArn))
      : undefined,
    // Schedules live where their target function does.
    rechecks: config.recheck
      ? new RecheckScheduler(
          new SchedulerClient({ region: config.recheck.targetArn.split(':')[3] }),
          config.recheck,
        )
      : undefined,
    org: orgRuntime(config, doc, options.clock),
    ...(config.reportBucket
      ? {
          reports: new ReportPublisher(
            new S3Client({ region: process.env.AWS_REGION ?? config.regions[0]! }),
            config.reportBucket,
            process.env.AWS_REGION ?? config.regions[0]!,
          ),
        }
      : {}),
    exporterFor(region) {
      if (!config.securityHub) return undefined;
      let e = exporters.get(region);
      if (!e) {
        e = new SecurityHubExport(
          new SecurityHubImporter(new SecurityHubSink(new SecurityHubClient({ region }))),
          {
            auditorVersion: version,
            ruleTitle: (id) => RULES.find((r) => r.meta.id === id)?.meta.title,
          },
        );
        exporters.set(region, e);
      }
      return e;
    },
    clientsFor(region) {
      let c = clients.get(region);
      if (!c) {
        c = createAwsClients({ region });
        clients.set(region, c);
      }
      return c;
    },
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({ namespace: 'SsmReadinessAuditor', serviceName: SERVICE_NAME }),
    clock: options.clock ?? (() => new Date()),
  };
}

function orgRuntime(
  config: LambdaEnv,
  doc: ReturnType<typeof documentClient>,
  clock?: () => Date,
): OrgRuntime {
  const home = process.env.AWS_REGION ?? config.regions[0]!;
  const sts = new STSClient({ region: home });
  const credentials = new MemberCredentials(
    sts,
    {
      roleName: config.org.memberRoleName,
      ...(config.org.externalId ? { externalId: config.org.externalId } : {}),
    },
    { partition: partitionOf(home), ...(clock ? { clock } : {}) },
  );
  const clients = new Map<string, AwsClients>();
  return {
    // Organizations is a global service whose endpoint is in us-east-1 (aws-cn: cn-northwest-1).
    organizations: new OrganizationsClient({
      region:
        partitionOf(home) === 'aws-cn'
          ? 'cn-northwest-1'
          : partitionOf(home) === 'aws-us-gov'
            ? 'us-gov-west-1'
            : 'us-east-1',
      ...(config.org.managementRoleArn
        ? { credentials: assumedRole(sts, config.org.managementRoleArn, clock ? { clock } : {}) }
        : {}),
    }),
    sqs: new SQSClient({ region: home }),
    runs: new OrgRunStore(doc, config.table, { historyTtlDays: config.historyTtlDays }),
    credentials,
    clientsFor(accountId, region) {
      const key = `${accountId}#${region}`;
      let c = clients.get(key);
      if (!c) {
        c = createAwsClients({ region, credentials: credentials.forAccount(accountId) });
        clients.set(key, c);
      }
      return c;
    },
  };
}

let cached: Runtime | undefined;
let nextOptions: RuntimeOptions = {};

/** The container's runtime, created on first use (so configuration errors surface as invocation errors). */
export function runtime(): Runtime {
  cached ??= createRuntime(process.env, nextOptions);
  return cached;
}

/**
 * Tests: forget the cached runtime so the next invocation reads the environment again, built with these
 * options (a fixed clock).
 */
export function resetRuntime(options: RuntimeOptions = {}): void {
  cached = undefined;
  nextOptions = options;
}

/** The account id from the function's own ARN (arn:aws:lambda:region:ACCOUNT:function:name). */
export function accountOf(context: { invokedFunctionArn?: string } | undefined): string | undefined {
  const account = context?.invokedFunctionArn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}
