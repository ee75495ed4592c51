import { parse } from '@aws-lambda-powertools/parser';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import type { CollectionScope } from '../collect/scope';
import { echo } from '../echo';
import { INSTANCE_ID, REGION_NAME, ROLE_NAME } from '../snapshot/schema';
import eventNames from './event-names.json';
import { RECHECK_DETAIL_TYPE, RECHECK_SOURCE, recheckDetail } from './recheck';

/**
 * DESIGN §6: every event maps to the smallest scope it can change. This module only decides; the
 * event-audit core (functions/lib) looks up VPC ids when needed and runs the audits.
 */

/** EC2 Instance State-change Notification. Published samples carry quirks we accept: an upper-case
 * state ("RUNNING") and a space-padded instance id (" i-1234567890abcdef0"); both are normalized. */
export const stateChangeDetail = z.object({
  'instance-id': z
    .string()
    .transform((s) => s.trim())
    .pipe(z.string().regex(INSTANCE_ID, 'must be an EC2 instance id like i-0123456789abcdef0')),
  state: z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'])),
});

const regionName = z.string().regex(REGION_NAME, 'must be an AWS region name like eu-west-1');

/** "AWS API Call via CloudTrail": only the fields the mapping reads; the rest is never logged. */
export const cloudTrailDetail = z.object({
  eventSource: z.string().min(1),
  eventName: z.string().min(1),
  awsRegion: regionName.optional(),
  errorCode: z.string().optional(),
  requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
  responseElements: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** The EventBridge envelope (Powertools' schema); `version` is optional because AWS's own documented
 * sample of a state-change event omits it. The region is checked here, not when a client is built for it. */
export const eventEnvelope = EventBridgeSchema.extend({
  version: z.string().optional(),
  region: regionName,
});
export type EventEnvelope = z.output<typeof eventEnvelope>;

export const STATE_CHANGE = 'EC2 Instance State-change Notification';
export const CLOUDTRAIL_CALL = 'AWS API Call via CloudTrail';

/**
 * The events the deployment subscribes to, in one file that serverless.yml's EventBridge patterns read too
 * (`${file(./shared/events/event-names.json):ec2Instance}`), so the code and the rules cannot drift apart.
 */
export const EVENT_NAMES = eventNames;

export type NetworkResource =
  | { type: 'vpc'; id: string }
  | { type: 'security-group'; id: string }
  | { type: 'route-table'; id: string }
  | { type: 'network-acl'; id: string }
  | { type: 'vpc-endpoint'; id: string }
  | { type: 'subnet'; id: string };

export type EventPlan =
  | { action: 'ignore'; reason: string }
  /** A terminated instance: close its findings, no AWS call needed. */
  | { action: 'close'; region: string; instanceIds: string[]; reason: string }
  | { action: 'audit'; targets: { region: string; scope: CollectionScope }[]; reason: string }
  /** A network change: audit the VPC of this resource (looked up), or the region when it cannot be found. */
  | { action: 'audit-vpc-of'; region: string; resource: NetworkResource; reason: string };

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/** EventBridge's maximum event size: a larger "event" did not come from EventBridge. */
export const MAX_EVENT_BYTES = 256 * 1024;
/** Deeper than any AWS event (CloudTrail request/response elements nest a handful of levels). */
export const MAX_EVENT_DEPTH = 64;

/**
 * Bounds the event's size (its JSON length in UTF-8 bytes) and nesting depth without recursion, so no
 * recursive code (the schemas, the id search) ever sees an event that could overflow the stack. Stops at
 * the first byte over the limit: linear in what it reads, whatever the input.
 */
export function checkEventBounds(
  raw: unknown,
  prefix = 'event',
  limits = { maxBytes: MAX_EVENT_BYTES, maxDepth: MAX_EVENT_DEPTH },
): void {
  let bytes = 0;
  const add = (n: number) => {
    bytes += n;
    if (bytes > limits.maxBytes)
      throw new InvalidEventError(
        `${prefix}: larger than ${limits.maxBytes / 1024} KB (EventBridge's maximum event size)`,
      );
  };
  const addString = (s: string) => {
    add(s.length + 2); // UTF-8 is at least one byte per UTF-16 unit: fail before measuring a huge string
    add(Buffer.byteLength(s, 'utf8') - s.length);
  };
  const stack: { value: unknown; depth: number }[] = [{ value: raw, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') addString(value);
    else if (typeof value === 'number' || typeof value === 'boolean') add(String(value).length);
    else if (value === null) add(4);
    else if (typeof value === 'object') {
      if (depth >= limits.maxDepth)
        throw new InvalidEventError(`${prefix}: nested deeper than ${limits.maxDepth} levels`);
      add(2);
      if (Array.isArray(value)) {
        for (const item of value) {
          add(1);
          stack.push({ value: item, depth: depth + 1 });
        }
      } else {
        for (const key in value) {
          if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
          addString(key);
          add(2);
          stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
        }
      }
    }
  }
}

/** At most this much of a schema's message is echoed (a message may quote an unknown key). */
const MAX_MESSAGE_CHARS = 200;

/**
 * Validation at the EventBridge edge with the Powertools parser (zod schemas); a failure names the field:
 * `event.detail.instance-id: must be an EC2 instance id …`.
 */
export function parseAtEdge<T extends z.ZodType>(data: unknown, schema: T, prefix: string): z.output<T> {
  const result = parse(data, undefined, schema, true);
  if (result.success) return result.data as z.output<T>;
  const issues = (result.error.cause ?? []) as readonly {
    message: string;
    path?: readonly (PropertyKey | { key: PropertyKey })[];
  }[];
  const issue = issues[0];
  const path = (issue?.path ?? []).map((p) => echo(String(typeof p === 'object' ? p.key : p)));
  const message = issue?.message ?? 'invalid';
  throw new InvalidEventError(
    `${prefix}${path.length ? `.${path.join('.')}` : ''}: ${
      message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message
    }`,
  );
}

/** The EventBridge envelope, bounded in size and depth before it is parsed. */
export function parseEnvelope(raw: unknown): EventEnvelope {
  checkEventBounds(raw);
  return parseAtEdge(raw, eventEnvelope, 'event');
}

/** Every string under a key with one of these names, anywhere in a CloudTrail request or response. */
function collect(value: unknown, keys: ReadonlySet<string>, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, keys, out);
    return out;
  }
  if (!value || typeof value !== 'object') return out;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (keys.has(key.toLowerCase()) && typeof child === 'string') {
      out.add(child.trim());
    } else if (
      keys.has(key.toLowerCase()) &&
      Array.isArray(child) &&
      child.every((c) => typeof c === 'string')
    ) {
      for (const s of child as string[]) out.add(s.trim());
    } else {
      collect(child, keys, out);
    }
  }
  return out;
}

const found = (detail: z.output<typeof cloudTrailDetail>, ...keys: string[]) => [
  ...collect([detail.requestParameters, detail.responseElements], new Set(keys.map((k) => k.toLowerCase()))),
];

const includes = (list: readonly string[], name: string) => list.includes(name);

/**
 * The plan for one EventBridge event. `regions` are the regions the deployment audits: IAM events
 * (delivered in us-east-1 only, IAM being global) re-audit the role's instances in each of them.
 */
export function planForEvent(raw: unknown, regions: readonly string[]): EventPlan {
  return planForEnvelope(parseEnvelope(raw), regions);
}

/** The plan for an event whose envelope is already validated (the handler parses it once, with
 * {@link parseEnvelope}, which also bounds its size and depth). */
export function planForEnvelope(event: EventEnvelope, regions: readonly string[]): EventPlan {
  if (event['detail-type'] === STATE_CHANGE) {
    const detail = parseAtEdge(event.detail, stateChangeDetail, 'event.detail');
    const id = detail['instance-id'];
    const state = detail.state;
    if (state === 'terminated' || state === 'shutting-down') {
      return { action: 'close', region: event.region, instanceIds: [id], reason: `${id} is ${state}` };
    }
    return {
      action: 'audit',
      targets: [{ region: event.region, scope: { kind: 'instances', instanceIds: [id] } }],
      reason: `${id} is ${state}`,
    };
  }

  // Our own one-time schedule, once an unregistered instance's launch grace is over (DESIGN §3 R7).
  if (event['detail-type'] === RECHECK_DETAIL_TYPE && event.source === RECHECK_SOURCE) {
    const detail = parseAtEdge(event.detail, recheckDetail, 'event.detail');
    const id = detail['instance-id'];
    return {
      action: 'audit',
      targets: [{ region: event.region, scope: { kind: 'instances', instanceIds: [id] } }],
      reason: `re-check of ${id}: its registration grace ended at ${detail.registrationDueAt}`,
    };
  }

  if (event['detail-type'] !== CLOUDTRAIL_CALL) {
    return { action: 'ignore', reason: `detail-type ${echo(event['detail-type'])} is not audited` };
  }
  const detail = parseAtEdge(event.detail, cloudTrailDetail, 'event.detail');
  const call = `${echo(detail.eventSource.split('.')[0] ?? '')}:${echo(detail.eventName)}`;
  // A call that failed changed nothing (DESIGN §6).
  if (detail.errorCode) return { action: 'ignore', reason: `${call} failed (${echo(detail.errorCode)})` };
  const region = detail.awsRegion ?? event.region;
  const wholeRegion = (r: string) => ({ region: r, scope: { kind: 'region' } as CollectionScope });

  if (detail.eventSource === 'ec2.amazonaws.com') {
    if (includes(EVENT_NAMES.ec2Instance, detail.eventName)) {
      const ids = found(detail, 'instanceId').filter((id) => INSTANCE_ID.test(id));
      if (ids.length === 0)
        return { action: 'audit', targets: [wholeRegion(region)], reason: `${call} without an instance id` };
      return {
        action: 'audit',
        targets: [{ region, scope: { kind: 'instances', instanceIds: ids } }],
        reason: call,
      };
    }
    if (includes(EVENT_NAMES.ec2Network, detail.eventName)) {
      const vpc = found(detail, 'vpcId').find((id) => id.startsWith('vpc-'));
      if (vpc)
        return { action: 'audit', targets: [{ region, scope: { kind: 'vpc', vpcId: vpc } }], reason: call };
      const candidates: [NetworkResource['type'], string, string][] = [
        ['security-group', 'groupId', 'sg-'],
        ['route-table', 'routeTableId', 'rtb-'],
        ['network-acl', 'networkAclId', 'acl-'],
        ['vpc-endpoint', 'vpcEndpointId', 'vpce-'],
        ['subnet', 'subnetId', 'subnet-'],
      ];
      for (const [type, key, prefix] of candidates) {
        const id = found(detail, key).find((v) => v.startsWith(prefix));
        if (id) return { action: 'audit-vpc-of', region, resource: { type, id }, reason: call };
      }
      return { action: 'audit', targets: [wholeRegion(region)], reason: `${call} names no VPC resource` };
    }
  }

  if (detail.eventSource === 'iam.amazonaws.com') {
    if (includes(EVENT_NAMES.iamRole, detail.eventName)) {
      const role = found(detail, 'roleName')[0];
      if (role && ROLE_NAME.test(role)) {
        return {
          action: 'audit',
          targets: regions.map((r) => ({
            region: r,
            scope: { kind: 'role', roleName: role } as CollectionScope,
          })),
          reason: `${call} on role ${role}`,
        };
      }
    }
    if (
      includes(EVENT_NAMES.iamRole, detail.eventName) ||
      includes(EVENT_NAMES.iamAccount, detail.eventName)
    ) {
      // A managed policy's new version may reach any role: re-audit every audited region.
      return { action: 'audit', targets: regions.map(wholeRegion), reason: call };
    }
  }

  if (detail.eventSource === 'ssm.amazonaws.com' && includes(EVENT_NAMES.ssmRegion, detail.eventName)) {
    return { action: 'audit', targets: [wholeRegion(region)], reason: call };
  }

  return { action: 'ignore', reason: `${call} is not audited` };
}
