import type { Instance, Reservation } from '@aws-sdk/client-ec2';
import type { Activation, InstanceInformation } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { partitionOf } from '../aws/assume';
import { CollectionError } from '../errors';
import { dhmcRoleName, roleNameOf } from '../snapshot/inventory';
import { parseSnapshot } from '../snapshot/load';
import type { Snapshot } from '../snapshot/schema';
import { DHMC_SETTING_ID, TIER_SETTING_ID } from '../knowledge/ssm-requirements';
import type { AwsClients } from '../aws/clients';
import { CollectionContext, type CollectionContextOptions } from './context';
import type { AccountScps } from './organization';
import { collectNetwork, describeInstances, instancesOf, type NetworkSections } from './ec2';
import { collectIam, collectIamAccount, listInstanceProfilesForRole, type IamSections } from './iam';
import { REGION_SCOPE, RoleNotFoundError, type CollectionScope } from './scope';
import { describeActivations, describeInstanceInformation, getServiceSettings } from './ssm';

export interface CollectOptions extends CollectionContextOptions {
  region: string;
  scope?: CollectionScope;
  /** Known account id (a Lambda reads it from its own ARN); otherwise taken from DescribeInstances or STS. */
  accountId?: string;
  /** The collection's timestamp (`collectedAt`); default: the current time. */
  now?: () => Date;
  /** What the evaluator needs beyond the scope (default: everything that could matter, FETCH_ALL). */
  plan?: FetchPlan;
  /** Organization mode: the account's SCP chain, read once per run by the planner (organization.ts). */
  organizations?: AccountScps;
}

/**
 * What the evaluator wants fetched beyond what the scope names. The collector never evaluates policies
 * (DESIGN §1): where the next read depends on what a policy allows, it asks the plan the evaluator
 * handed it (shared/engine/fetch-plan.ts).
 */
export interface FetchPlan {
  /**
   * A scoped collection has read its instances' profiles and roles (`partial`: that IAM and nothing
   * else). Must it also read the role that Default Host Management Configuration names? The agent falls
   * back to it only for an instance whose profile does not let it register.
   */
  needsDhmcRole(
    partial: Snapshot,
    instances: readonly { instanceId: string; profileArn?: string | undefined }[],
  ): boolean;
}

/** Without an evaluator's plan: fetch everything that could matter. */
export const FETCH_ALL: FetchPlan = { needsDhmcRole: () => true };

export interface CollectionStats {
  /** Requests sent per IAM action name (retries included). */
  calls: Record<string, number>;
  totalCalls: number;
  durationMs: number;
}

export interface CollectResult {
  /** The validated snapshot, exactly what loading the written file gives. */
  snapshot: Snapshot;
  /** The JSON document to write (`collect --out`): AWS's own shapes, every field AWS returned. */
  document: Record<string, unknown>;
  stats: CollectionStats;
}

export { partitionOf };

const dhmcRoleOf = (settings: readonly { SettingId?: string; SettingValue?: string }[] | undefined) =>
  dhmcRoleName(settings?.find((s) => s.SettingId === DHMC_SETTING_ID)?.SettingValue);

/** Drops undefined sections so that "not collected" and "collected, empty" stay distinguishable. */
const defined = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));

/**
 * Builds the DESIGN §2 snapshot of one account and region (or of a scope within it) from live AWS APIs.
 * Calls that fail are recorded in the snapshot's `calls` (and the rules report ERROR for what they
 * affect); the collection itself only fails when no snapshot can be built at all (no account id).
 */
export async function collectSnapshot(clients: AwsClients, options: CollectOptions): Promise<CollectResult> {
  const ctx = new CollectionContext(options);
  try {
    return await collectWith(clients, options, ctx);
  } finally {
    ctx.close();
  }
}

async function collectWith(
  clients: AwsClients,
  options: CollectOptions,
  ctx: CollectionContext,
): Promise<CollectResult> {
  const started = Date.now();
  const scope = options.scope ?? REGION_SCOPE;
  const plan = options.plan ?? FETCH_ALL;
  const region = options.region;
  const collectedAt = (options.now?.() ?? new Date()).toISOString();

  ctx.setPhase('instances and SSM settings');
  const wholeRegion = scope.kind === 'region';
  const settingsPromise = getServiceSettings(
    clients.ssm,
    ctx,
    wholeRegion ? [DHMC_SETTING_ID, TIER_SETTING_ID] : [DHMC_SETTING_ID],
  );
  // Activations feed account-level rules only, which a scoped audit does not evaluate.
  const activationsPromise: Promise<Activation[] | undefined> = wholeRegion
    ? describeActivations(clients.ssm, ctx)
    : Promise.resolve(undefined);

  /** EC2 side of the scope: the instances, and whether they are the whole region's. */
  let reservations: Reservation[] | undefined;
  let allInstances = wholeRegion;
  let hybridRole: string | undefined;
  let roleMissing = false;
  switch (scope.kind) {
    case 'region':
      reservations = await describeInstances(clients.ec2, ctx);
      break;
    case 'instances': {
      const ids = scope.instanceIds.filter((id) => id.startsWith('i-'));
      reservations = ids.length
        ? await describeInstances(clients.ec2, ctx, { Name: 'instance-id', Values: ids })
        : [];
      break;
    }
    case 'vpc':
      reservations = await describeInstances(clients.ec2, ctx, { Name: 'vpc-id', Values: [scope.vpcId] });
      break;
    case 'role': {
      hybridRole = scope.roleName;
      const dhmcRole = dhmcRoleOf(await settingsPromise);
      const isDhmcRole = dhmcRole?.toLowerCase() === scope.roleName.toLowerCase();
      const profiles = isDhmcRole
        ? undefined
        : await listInstanceProfilesForRole(clients.iam, ctx, scope.roleName);
      // No list and no failure recorded: IAM answered NoSuchEntity (an answer, not a failure). No
      // instance profile carries a role that does not exist, so no EC2 instance uses it.
      roleMissing = !isDhmcRole && profiles === undefined && !ctx.failures['iam:ListInstanceProfilesForRole'];
      if (roleMissing) {
        reservations = [];
      } else if (profiles === undefined) {
        // The DHMC role serves every instance whose profile does not; and when the profiles that carry
        // the role cannot be listed, only the whole region is a scope we can be sure covers them.
        allInstances = true;
        reservations = await describeInstances(clients.ec2, ctx);
      } else {
        const arns = profiles.map((p) => p.Arn).filter((a): a is string => Boolean(a));
        reservations = arns.length
          ? await describeInstances(clients.ec2, ctx, { Name: 'iam-instance-profile.arn', Values: arns })
          : [];
      }
      break;
    }
  }
  const instances: Instance[] = reservations ? instancesOf(reservations) : [];
  const instanceIds = instances.map((i) => i.InstanceId).filter((id): id is string => Boolean(id));

  ctx.setPhase('network and SSM registrations');
  const vpcIds: string[] | undefined = allInstances
    ? undefined
    : [
        ...new Set([
          ...(scope.kind === 'vpc' ? [scope.vpcId] : []),
          ...instances.map((i) => i.VpcId).filter((id): id is string => Boolean(id)),
        ]),
      ].sort();
  const networkPromise: Promise<NetworkSections> =
    reservations === undefined && !allInstances
      ? Promise.resolve({})
      : collectNetwork(clients.ec2, ctx, region, vpcIds);

  const informationPromise = (async (): Promise<InstanceInformation[] | undefined> => {
    if (allInstances) return describeInstanceInformation(clients.ssm, ctx);
    const requested =
      scope.kind === 'instances' ? scope.instanceIds.filter((id) => id.startsWith('mi-')) : [];
    const ec2Ids = reservations ? instanceIds : scope.kind === 'instances' ? scope.instanceIds : [];
    const ids = [...new Set([...ec2Ids, ...requested])];
    const byId = await describeInstanceInformation(clients.ssm, ctx, { Key: 'InstanceIds', Values: ids });
    if (!byId || !hybridRole) return byId;
    // DescribeInstanceInformation's IamRole filter matches the registered string exactly (with or without
    // a path), so hybrid nodes of the role are matched here by role name instead.
    const hybrids = await describeInstanceInformation(clients.ssm, ctx, {
      Key: 'ResourceType',
      Values: ['ManagedInstance'],
    });
    if (!hybrids) return undefined;
    const wanted = hybridRole.toLowerCase();
    return [...byId, ...hybrids.filter((h) => h.IamRole && roleNameOf(h.IamRole).toLowerCase() === wanted)];
  })();

  const [settings, activations, information, network] = await Promise.all([
    settingsPromise,
    activationsPromise,
    informationPromise,
    networkPromise,
  ]);
  // A role that does not exist and that no hybrid node is registered with: nothing uses it, and an
  // empty report would not say why. (Hybrid nodes registered with a deleted role are audited: their
  // hybrid-service-role findings say the role is not found.)
  if (scope.kind === 'role' && roleMissing && information?.length === 0) {
    throw new RoleNotFoundError(scope.roleName, { apiCalls: ctx.totalCalls });
  }

  ctx.setPhase('IAM roles and policies');
  const roleNames = new Set<string>();
  const dhmcRole = dhmcRoleOf(settings);
  if (scope.kind === 'role') roleNames.add(scope.roleName);
  for (const info of information ?? []) {
    if (info.IamRole && (info.ResourceType === 'ManagedInstance' || info.InstanceId?.startsWith('mi-')))
      roleNames.add(roleNameOf(info.IamRole));
  }
  for (const activation of activations ?? [])
    if (activation.IamRole) roleNames.add(roleNameOf(activation.IamRole));
  const profileArns = new Set<string>();
  for (const instance of instances)
    if (instance.IamInstanceProfile?.Arn) profileArns.add(instance.IamInstanceProfile.Arn);
  let iamSections: IamSections;
  if (wholeRegion) {
    if (dhmcRole) roleNames.add(dhmcRole);
    iamSections = await collectIamAccount(clients.iam, ctx, { profileArns, roleNames });
  } else {
    iamSections = await collectIam(clients.iam, ctx, { profileArns, roleNames });
    const knownAccount = options.accountId ?? reservations?.find((r) => r.OwnerId)?.OwnerId;
    // When IAM could not be read, nothing can be judged: the role is fetched.
    const iamFailed = Object.keys(ctx.failures).some((action) => action.startsWith('iam:'));
    const needed =
      dhmcRole &&
      (iamFailed ||
        plan.needsDhmcRole(
          partialIamSnapshot(instances, iamSections, region, knownAccount),
          instances.map((i) => ({
            instanceId: i.InstanceId ?? 'i-unknown',
            profileArn: i.IamInstanceProfile?.Arn,
          })),
        ));
    if (needed) {
      iamSections = await collectIam(clients.iam, ctx, {
        profileArns: [],
        roleNames: [dhmcRole],
        known: iamSections,
      });
    }
  }

  const accountId =
    options.accountId ??
    reservations?.find((r) => r.OwnerId)?.OwnerId ??
    settings?.map((setting) => setting.ARN?.split(':')[4]).find((id) => id && /^\d{12}$/.test(id)) ??
    (await callerAccount(clients, ctx));

  ctx.setPhase('done');
  const document = defined({
    schemaVersion: 1,
    accountId,
    region,
    partition: partitionOf(region),
    collectedAt,
    ...(wholeRegion ? {} : { scope }),
    calls: { ...ctx.failures, ...options.organizations?.calls },
    ec2: defined({ Reservations: reservations, ...network }),
    ssm: defined({
      InstanceInformationList: information,
      ServiceSettings: settings,
      ActivationList: activations,
    }),
    iam: iamSections,
    organizations: options.organizations?.section,
  });
  // Through JSON exactly as the file would be: Dates become ISO strings, undefined fields vanish.
  const json = JSON.parse(JSON.stringify(document)) as Record<string, unknown>;
  let snapshot: Snapshot;
  try {
    snapshot = parseSnapshot(json, 'collected snapshot');
  } catch (err) {
    throw new CollectionError(
      `AWS returned data the snapshot format cannot hold: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return {
    snapshot,
    document: json,
    stats: {
      calls: Object.fromEntries(ctx.counts),
      totalCalls: ctx.totalCalls,
      durationMs: Date.now() - started,
    },
  };
}

/**
 * The IAM read so far in a scoped collection, as a snapshot of its own (the instances' profiles and
 * roles, nothing else), for the fetch plan to judge. The profile's ARN names the account when EC2 did
 * not (a Deny scoped to this account's instances must count, as the rules will count it).
 */
function partialIamSnapshot(
  instances: readonly Instance[],
  iam: IamSections,
  region: string,
  accountId: string | undefined,
): Snapshot {
  const profileAccount = instances
    .map((i) => i.IamInstanceProfile?.Arn?.split(':')[4])
    .find((id) => id && /^\d{12}$/.test(id));
  return parseSnapshot(
    JSON.parse(
      JSON.stringify({
        schemaVersion: 1,
        accountId: accountId ?? profileAccount ?? '000000000000',
        region,
        partition: partitionOf(region),
        collectedAt: new Date(0).toISOString(),
        iam,
      }),
    ),
  );
}

async function callerAccount(clients: AwsClients, ctx: CollectionContext): Promise<string> {
  const result = await ctx.call('sts:GetCallerIdentity', (o) =>
    clients.sts.send(new GetCallerIdentityCommand({}), o),
  );
  if (result.status === 'ok' && result.value.Account) return result.value.Account;
  const failure = ctx.failures['sts:GetCallerIdentity'];
  throw new CollectionError(
    `cannot determine the AWS account id: sts:GetCallerIdentity failed${failure ? ` (${failure.error}${failure.message ? `: ${failure.message}` : ''})` : ''}`,
  );
}
