import { z } from 'zod';
import { INSTANCE_ID } from '../snapshot/schema';

/**
 * The registration re-check (DESIGN §3 R7 "Launch grace"): when an audit finds a running instance that
 * has not registered yet and is within its grace, the deployed product creates a one-time EventBridge
 * Scheduler schedule that invokes the event-audit function once the grace is over, with this event as
 * its input. It has the EventBridge envelope of every other event the function takes (validated by the
 * same schema), so it is planned like an EC2 state change: an audit of that one instance.
 */

/** The `source` of the re-check event: this product, never an AWS service (those are `aws.*`). */
export const RECHECK_SOURCE = 'ssm-readiness-auditor';
export const RECHECK_DETAIL_TYPE = 'SSM readiness re-check';

export const recheckDetail = z.object({
  'instance-id': z.string().regex(INSTANCE_ID, 'must be an EC2 instance id like i-0123456789abcdef0'),
  /** When the instance's launch grace ended (its LaunchTime + registrationGraceMinutes). */
  registrationDueAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
});
export type RecheckDetail = z.output<typeof recheckDetail>;

export interface RecheckRequest {
  accountId: string;
  region: string;
  partition: string;
  instanceId: string;
  /** The end of the instance's launch grace. */
  dueAt: Date;
  /** When the schedule fires (at or after `dueAt`). */
  fireAt: Date;
}

/** `2026-11-23T10:28:00.000Z` → `20261123T102800Z`: a schedule-name-safe timestamp, to the second. */
const compact = (date: Date) =>
  date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');

/**
 * The schedule's name: one per instance and grace end, so a duplicate event (or the RunInstances call
 * and the `running` state change of one launch, which see the same LaunchTime) asks for the same name
 * and EventBridge Scheduler keeps one schedule (ConflictException for the second). At most 64
 * characters of [0-9a-zA-Z-_.], as CreateSchedule requires.
 */
export function recheckScheduleName(
  request: Pick<RecheckRequest, 'region' | 'instanceId' | 'dueAt'>,
): string {
  return `recheck-${request.region}-${request.instanceId}-${compact(request.dueAt)}`;
}

/** The event the schedule delivers: an EventBridge envelope with a {@link recheckDetail}. */
export function recheckEvent(request: RecheckRequest) {
  return {
    version: '0',
    id: recheckScheduleName(request),
    'detail-type': RECHECK_DETAIL_TYPE,
    source: RECHECK_SOURCE,
    account: request.accountId,
    time: request.fireAt.toISOString(),
    region: request.region,
    resources: [
      `arn:${request.partition}:ec2:${request.region}:${request.accountId}:instance/${request.instanceId}`,
    ],
    detail: {
      'instance-id': request.instanceId,
      registrationDueAt: request.dueAt.toISOString(),
    } satisfies RecheckDetail,
  };
}
