import { CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { recheckEvent, recheckScheduleName, type RecheckRequest } from '../../shared/events/recheck';
import type { Finding } from '../../shared/model';

/**
 * Re-checks after the launch grace (DESIGN §3 R7): for each instance an audit found REGISTRATION_PENDING,
 * one EventBridge Scheduler one-time schedule (`at(...)`, ActionAfterCompletion DELETE) that invokes the
 * event-audit function with a re-check event for that instance once its grace is over. AWS's engine, not
 * a sleep or a home-made timer: it survives the invocation, and SQS's 15-minute delay could not reach
 * the 30-minute default grace.
 */

export interface RecheckConfig {
  /** The schedule group of this deployment (the function may create schedules in it only). */
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke the target (lambda:InvokeFunction on it only). */
  roleArn: string;
  /** The event-audit function. */
  targetArn: string;
}

export interface RecheckResult {
  scheduled: number;
  /** Already scheduled by an earlier audit of the same launch (a duplicate event, RunInstances + running). */
  existing: number;
  failed: number;
}

/** Schedules are created a few at a time: a mass launch must not burst past CreateSchedule's rate quota. */
const CONCURRENCY = 5;
const MINUTE = 60_000;
/**
 * The schedule fires at the start of the minute after the grace ends, plus a minute: the audit it runs
 * is then past the grace whatever the small skew between EC2's LaunchTime and the function's clock, and
 * an instance that never registers is still reported well within grace + 15 minutes.
 */
const SLACK_MS = MINUTE;

const nextMinute = (ms: number) => Math.ceil(ms / MINUTE) * MINUTE;

/** When the re-check for a grace ending at `dueAt` fires: never in the past, whatever `now` is. */
export function recheckTime(dueAt: Date, now: Date): Date {
  return new Date(Math.max(nextMinute(dueAt.getTime()), nextMinute(now.getTime())) + SLACK_MS);
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, EventBridge Scheduler's one-time schedule expression. */
export const atExpression = (date: Date) => `at(${date.toISOString().slice(0, 19)})`;

/** The instances of these findings whose registration is pending, with the end of their grace. */
export function pendingRegistrations(findings: readonly Finding[]): { instanceId: string; dueAt: Date }[] {
  const out: { instanceId: string; dueAt: Date }[] = [];
  for (const f of findings) {
    if (
      f.ruleId !== 'managed-status' ||
      f.reason !== 'REGISTRATION_PENDING' ||
      f.resourceType !== 'EC2Instance'
    )
      continue;
    const due = (f.evidence as { registrationDueAt?: unknown }).registrationDueAt;
    const dueAt = typeof due === 'string' ? new Date(due) : undefined;
    if (dueAt && Number.isFinite(dueAt.getTime())) out.push({ instanceId: f.resourceId, dueAt });
  }
  return out;
}

export class RecheckScheduler {
  constructor(
    private readonly client: SchedulerClient,
    readonly config: RecheckConfig,
  ) {}

  /** One schedule; a schedule of the same name already there is the same re-check, not an error. */
  async schedule(request: RecheckRequest): Promise<'scheduled' | 'existing'> {
    const name = recheckScheduleName(request);
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: this.config.groupName,
          Description: `SSM readiness re-check of ${request.instanceId} after its registration grace`,
          ScheduleExpression: atExpression(request.fireAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Target: {
            Arn: this.config.targetArn,
            RoleArn: this.config.roleArn,
            Input: JSON.stringify(recheckEvent(request)),
            // Scheduler invokes Lambda asynchronously; the function's own retries and on-failure
            // destination take over from there.
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 5 },
          },
        }),
      );
      return 'scheduled';
    } catch (err) {
      if ((err as { name?: string }).name === 'ConflictException') return 'existing';
      throw err;
    }
  }

  /** Every pending registration of these findings; a failure is counted and reported, never thrown. */
  async scheduleAll(
    input: { accountId: string; region: string; partition: string; now: Date; findings: readonly Finding[] },
    onError: (instanceId: string, err: unknown) => void,
  ): Promise<RecheckResult> {
    const result: RecheckResult = { scheduled: 0, existing: 0, failed: 0 };
    const queue = pendingRegistrations(input.findings);
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          const outcome = await this.schedule({
            accountId: input.accountId,
            region: input.region,
            partition: input.partition,
            instanceId: next.instanceId,
            dueAt: next.dueAt,
            fireAt: recheckTime(next.dueAt, input.now),
          });
          result[outcome]++;
        } catch (err) {
          result.failed++;
          onError(next.instanceId, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    return result;
  }
}
