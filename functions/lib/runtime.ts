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
}

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
}

export interface RuntimeOptions {
  clock?: () => Date;
}

export const SERVICE_NAME = 'ssm-readiness-auditor';

export function createRuntime(env: NodeJS.ProcessEnv = process.env, options: RuntimeOptions = {}): Runtime {
  const config = parseLambdaEnv(env);
  const clients = new Map<string, AwsClients>();
  const topicRegion = config.topicArn?.split(':')[3];
  return {
    env: config,
    store: new FindingsStore({
      client: documentClient(dynamoClient()),
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
