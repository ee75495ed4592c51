/**
 * A fake AWS account for tests and the benchmark: aws-sdk-client-mock handlers that answer EC2, SSM,
 * IAM and STS requests from a snapshot, the way the real APIs do — filters, MaxResults/NextToken and
 * Marker/IsTruncated pagination with the APIs' own page limits, Date objects for timestamps,
 * URL-encoded IAM policy documents, NoSuchEntity / ServiceSettingNotFound for what does not exist.
 * A request the real API would reject (page size out of range, a parameter combination EC2 refuses)
 * is rejected here too, so the collectors are tested against the APIs' rules, not just their shapes.
 *
 * Faults can be injected per action ("ec2:DescribeVpcEndpoints"): a denial or any error on every
 * request, or throttling for the first N requests.
 */
import {
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import {
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import {
  DescribeActivationsCommand,
  DescribeInstanceInformationCommand,
  GetServiceSettingCommand,
  ServiceSettingNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { SnapshotInput } from '../../shared/snapshot/schema';

type Json = Record<string, unknown>;
type Ec2 = NonNullable<SnapshotInput['ec2']>;

/** An error as the SDK raises it for an unmodelled AWS error code (EC2's query protocol, IAM's AccessDenied). */
export function awsError(name: string, message = `${name} (injected)`, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** The denial each service really sends: EC2 UnauthorizedOperation, IAM AccessDenied, SSM AccessDeniedException. */
export function deniedError(action: string): Error {
  const [service] = action.split(':');
  const name =
    service === 'ec2'
      ? 'UnauthorizedOperation'
      : service === 'ssm'
        ? 'AccessDeniedException'
        : 'AccessDenied';
  return awsError(
    name,
    `User: arn:aws:sts::123456789012:assumed-role/auditor/session is not authorized to perform: ${action}`,
    403,
  );
}

export function throttleError(action: string): Error {
  const [service] = action.split(':');
  const name =
    service === 'ec2' ? 'RequestLimitExceeded' : service === 'ssm' ? 'ThrottlingException' : 'Throttling';
  return awsError(name, 'Rate exceeded', 400);
}

export interface FakeAwsOptions {
  /** Every request of these actions fails with this error (use deniedError / awsError). */
  fail?: Record<string, Error>;
  /** The first N requests of these actions are throttled. */
  throttleFirst?: Record<string, number>;
}

export interface FakeAws {
  /** Requests received per action (including throttled ones). */
  calls: Map<string, number>;
  totalCalls(): number;
  /** The inputs of every request, in order, per action. */
  inputs: Map<string, unknown[]>;
  mocks: {
    ec2: AwsStub<never, never, never>;
    ssm: AwsStub<never, never, never>;
    iam: AwsStub<never, never, never>;
    sts: AwsStub<never, never, never>;
  };
  restore(): void;
}

const TIMESTAMP_FIELDS = new Set([
  'LaunchTime',
  'LastPingDateTime',
  'RegistrationDate',
  'ExpirationDate',
  'CreatedDate',
  'CreateDate',
  'LastModifiedDate',
  'UpdateDate',
  'AttachTime',
  'CreateTime',
]);

/** The SDK parses timestamps into Date objects; give the collectors what the SDK would. */
function sdkShape<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sdkShape) as T;
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value as Json)) {
      if (TIMESTAMP_FIELDS.has(k) && (typeof v === 'string' || typeof v === 'number')) {
        out[k] = new Date(typeof v === 'number' ? v * 1000 : v);
      } else out[k] = sdkShape(v);
    }
    return out as T;
  }
  return value;
}

/** IAM returns policy documents URL-encoded (RFC 3986), as a string. */
const encodeDocument = (doc: unknown): string =>
  typeof doc === 'string' ? doc : encodeURIComponent(JSON.stringify(doc));

function validationError(message: string): Error {
  return awsError('InvalidParameterValue', message);
}

function checkPage(action: string, max: number | undefined, low: number, high: number): void {
  if (max !== undefined && (max < low || max > high)) {
    throw validationError(`${action}: MaxResults must be between ${low} and ${high}, got ${max}`);
  }
}

/** Offset pagination with an opaque token, as the APIs do it. */
function page<T>(
  items: readonly T[],
  token: string | undefined,
  size: number,
): { items: T[]; next?: string } {
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw validationError(`invalid NextToken ${token}`);
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(String(end)).toString('base64') : undefined,
  };
}

type Matchers<T> = Record<string, (item: T) => readonly (string | undefined)[]>;

function applyFilters<T>(
  action: string,
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  matchers: Matchers<T>,
): T[] {
  let out = [...items];
  for (const filter of filters ?? []) {
    const match = filter.Name ? matchers[filter.Name] : undefined;
    if (!match) throw validationError(`${action}: the filter '${filter.Name}' is not supported by this fake`);
    const values = new Set(filter.Values ?? []);
    if (values.size > 200) throw validationError(`${action}: a filter takes at most 200 values`);
    out = out.filter((item) => match(item).some((v) => v !== undefined && values.has(v)));
  }
  return out;
}

const roleNameOf = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

export function fakeAwsFromSnapshot(snapshot: SnapshotInput, options: FakeAwsOptions = {}): FakeAws {
  const calls = new Map<string, number>();
  const inputs = new Map<string, unknown[]>();
  const mocks = {
    ec2: mockClient(EC2Client) as unknown as AwsStub<never, never, never>,
    ssm: mockClient(SSMClient) as unknown as AwsStub<never, never, never>,
    iam: mockClient(IAMClient) as unknown as AwsStub<never, never, never>,
    sts: mockClient(STSClient) as unknown as AwsStub<never, never, never>,
  };

  /** Counts the request, applies injected faults, then answers. */
  const handle =
    <I>(action: string, answer: (input: I) => unknown) =>
    async (input: I) => {
      const n = (calls.get(action) ?? 0) + 1;
      calls.set(action, n);
      const list = inputs.get(action) ?? [];
      list.push(input);
      inputs.set(action, list);
      const fail = options.fail?.[action];
      if (fail) throw fail;
      if (n <= (options.throttleFirst?.[action] ?? 0)) throw throttleError(action);
      return sdkShape(answer(input)) as never;
    };
  registerSnapshotAnswers(snapshot, mocks, handle);

  return {
    calls,
    inputs,
    totalCalls: () => [...calls.values()].reduce((a, b) => a + b, 0),
    mocks,
    restore() {
      for (const mock of Object.values(mocks)) mock.restore();
    },
  };
}

/** What registerSnapshotAnswers needs of a mock: aws-sdk-client-mock's `on(Command).callsFake(fn)`. */
export interface AnswerRegistrar {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(command: never): { callsFake(fn: (input: any) => unknown): unknown };
}

/** Wraps one action's answer (counting, faults, SDK shapes) before it is registered. */
export type AnswerWrapper = <I>(action: string, answer: (input: I) => unknown) => (input: I) => unknown;

/** One API answer of a snapshot-backed account: the command it answers and the raw answer (not SDK-shaped). */
export interface SnapshotAnswer {
  service: 'ec2' | 'ssm' | 'iam' | 'sts';
  command: unknown;
  action: string;
  answer: (input: never) => unknown;
}

/**
 * The answers of a snapshot-backed account as a list, for fakes that route each request to one of many
 * accounts (test/support/fake-organization.ts): the same answers fakeAwsFromSnapshot registers.
 */
export function snapshotAnswers(snapshot: SnapshotInput): SnapshotAnswer[] {
  const answers: SnapshotAnswer[] = [];
  let pending: { action: string; answer: (input: never) => unknown } | undefined;
  const registrar = (service: SnapshotAnswer['service']): AnswerRegistrar => ({
    on: (command: never) => ({
      callsFake: () => {
        if (pending) answers.push({ service, command, ...pending });
        pending = undefined;
      },
    }),
  });
  const wrap: AnswerWrapper = (action, answer) => {
    pending = { action, answer: answer as (input: never) => unknown };
    return answer;
  };
  registerSnapshotAnswers(
    snapshot,
    { ec2: registrar('ec2'), ssm: registrar('ssm'), iam: registrar('iam'), sts: registrar('sts') },
    wrap,
  );
  return answers;
}

/** The SDK's shapes for a raw answer (Date timestamps): what a routed fake returns. */
export const asSdkResponse = <T>(value: T): T => sdkShape(value);

function registerSnapshotAnswers(
  snapshot: SnapshotInput,
  mocks: Record<'ec2' | 'ssm' | 'iam' | 'sts', AnswerRegistrar>,
  handle: AnswerWrapper,
): void {
  const ec2Data: Ec2 = snapshot.ec2 ?? {};

  // ------------------------------------------------------------------ EC2
  type InstanceRow = { reservation: Json; instance: Json };
  const instanceRows: InstanceRow[] = [];
  for (const reservation of ec2Data.Reservations ?? []) {
    const { Instances, ...rest } = reservation as Json & { Instances: Json[] };
    for (const instance of Instances) instanceRows.push({ reservation: rest, instance });
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  mocks.ec2.on(DescribeInstancesCommand as never).callsFake(
    handle(
      'ec2:DescribeInstances',
      (input: { Filters?: Filter[]; InstanceIds?: string[]; MaxResults?: number; NextToken?: string }) => {
        if (input.InstanceIds?.length && input.MaxResults !== undefined) {
          throw validationError('The parameter instancesSet cannot be used with the parameter maxResults');
        }
        checkPage('DescribeInstances', input.MaxResults, 5, 1000);
        let rows = applyFilters('DescribeInstances', instanceRows, input.Filters, {
          'instance-id': (r) => [str(r.instance.InstanceId)],
          'vpc-id': (r) => [str(r.instance.VpcId)],
          'iam-instance-profile.arn': (r) => [str((r.instance.IamInstanceProfile as Json | undefined)?.Arn)],
          'instance-state-name': (r) => [str((r.instance.State as Json | undefined)?.Name)],
        });
        if (input.InstanceIds?.length) {
          const wanted = new Set(input.InstanceIds);
          rows = rows.filter((r) => wanted.has(String(r.instance.InstanceId)));
        }
        const { items, next } = page(rows, input.NextToken, input.MaxResults ?? 1000);
        // Re-group the page's instances under their reservations, as EC2 does.
        const reservations: Json[] = [];
        let current: { source: Json; out: Json & { Instances: Json[] } } | undefined;
        for (const row of items) {
          if (!current || current.source !== row.reservation) {
            current = { source: row.reservation, out: { ...row.reservation, Instances: [] } };
            reservations.push(current.out);
          }
          current.out.Instances.push(row.instance);
        }
        return { Reservations: reservations, NextToken: next };
      },
    ),
  );

  const networkList = <T extends Json>(
    action: string,
    key: string,
    items: readonly T[],
    matchers: Matchers<T>,
    limits: [number, number],
    filterParam: 'Filters' | 'Filter' = 'Filters',
  ) =>
    handle(action, (input: Json & { MaxResults?: number; NextToken?: string }) => {
      checkPage(action, input.MaxResults, limits[0], limits[1]);
      let filtered = applyFilters(action, items, input[filterParam] as Filter[] | undefined, matchers);
      // Describe by ids (GroupIds, RouteTableIds, ...): EC2 answers NotFound when an id does not exist.
      const idsParam = Object.keys(input).find((k) => k.endsWith('Ids') && Array.isArray(input[k]));
      if (idsParam) {
        const wanted = input[idsParam] as string[];
        const idField = `${idsParam.slice(0, -3)}Id`;
        filtered = filtered.filter((item) => wanted.includes(String(item[idField])));
        if (filtered.length < wanted.length)
          throw awsError(
            `Invalid${idsParam.slice(0, -3)}.NotFound`,
            `The ${idsParam.slice(0, -3)} ID does not exist`,
          );
      }
      const { items: pageItems, next } = page(filtered, input.NextToken, input.MaxResults ?? limits[1]);
      return { [key]: pageItems, NextToken: next };
    });

  const vpcs = (ec2Data.Vpcs ?? []) as Json[];
  const byVpc = { 'vpc-id': (x: Json) => [str(x.VpcId)] };
  // DescribeVpcs does not return the DNS attributes: those come from DescribeVpcAttribute.
  const bareVpcs = vpcs.map(({ EnableDnsSupport: _s, EnableDnsHostnames: _h, ...rest }) => rest);
  mocks.ec2
    .on(DescribeVpcsCommand as never)
    .callsFake(networkList('ec2:DescribeVpcs', 'Vpcs', bareVpcs, byVpc, [5, 1000]));
  mocks.ec2
    .on(DescribeSubnetsCommand as never)
    .callsFake(
      networkList('ec2:DescribeSubnets', 'Subnets', (ec2Data.Subnets ?? []) as Json[], byVpc, [5, 1000]),
    );
  mocks.ec2
    .on(DescribeRouteTablesCommand as never)
    .callsFake(
      networkList(
        'ec2:DescribeRouteTables',
        'RouteTables',
        (ec2Data.RouteTables ?? []) as Json[],
        byVpc,
        [5, 100],
      ),
    );
  mocks.ec2.on(DescribeSecurityGroupsCommand as never).callsFake(
    networkList(
      'ec2:DescribeSecurityGroups',
      'SecurityGroups',
      (ec2Data.SecurityGroups ?? []) as Json[],
      {
        ...byVpc,
        'group-id': (x) => [str(x.GroupId)],
      },
      [5, 1000],
    ),
  );
  mocks.ec2.on(DescribeNetworkAclsCommand as never).callsFake(
    networkList(
      'ec2:DescribeNetworkAcls',
      'NetworkAcls',
      (ec2Data.NetworkAcls ?? []) as Json[],
      {
        ...byVpc,
        'association.subnet-id': (x) =>
          ((x.Associations as Json[] | undefined) ?? []).map((a) => str(a.SubnetId)),
      },
      [5, 100],
    ),
  );
  mocks.ec2
    .on(DescribeVpcEndpointsCommand as never)
    .callsFake(
      networkList(
        'ec2:DescribeVpcEndpoints',
        'VpcEndpoints',
        (ec2Data.VpcEndpoints ?? []) as Json[],
        byVpc,
        [1, 1000],
      ),
    );
  mocks.ec2.on(DescribeInternetGatewaysCommand as never).callsFake(
    networkList(
      'ec2:DescribeInternetGateways',
      'InternetGateways',
      (ec2Data.InternetGateways ?? []) as Json[],
      {
        'internet-gateway-id': (x) => [str(x.InternetGatewayId)],
        'attachment.vpc-id': (x) => ((x.Attachments as Json[] | undefined) ?? []).map((a) => str(a.VpcId)),
      },
      [5, 1000],
    ),
  );
  mocks.ec2
    .on(DescribeNatGatewaysCommand as never)
    .callsFake(
      networkList(
        'ec2:DescribeNatGateways',
        'NatGateways',
        (ec2Data.NatGateways ?? []) as Json[],
        { ...byVpc, 'nat-gateway-id': (x) => [str(x.NatGatewayId)] },
        [5, 1000],
        'Filter',
      ),
    );
  mocks.ec2.on(DescribeVpcAttributeCommand as never).callsFake(
    handle('ec2:DescribeVpcAttribute', (input: { VpcId?: string; Attribute?: string }) => {
      const vpc = vpcs.find((v) => v.VpcId === input.VpcId);
      if (!vpc) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
      const read = (v: unknown, fallback: boolean) =>
        typeof v === 'boolean' ? v : ((v as { Value?: boolean } | undefined)?.Value ?? fallback);
      if (input.Attribute === 'enableDnsSupport')
        return { VpcId: input.VpcId, EnableDnsSupport: { Value: read(vpc.EnableDnsSupport, true) } };
      if (input.Attribute === 'enableDnsHostnames')
        return {
          VpcId: input.VpcId,
          EnableDnsHostnames: { Value: read(vpc.EnableDnsHostnames, vpc.IsDefault === true) },
        };
      throw validationError(`unsupported attribute ${input.Attribute}`);
    }),
  );

  // ------------------------------------------------------------------ SSM
  const information = (snapshot.ssm?.InstanceInformationList ?? []) as Json[];
  mocks.ssm.on(DescribeInstanceInformationCommand as never).callsFake(
    handle(
      'ssm:DescribeInstanceInformation',
      (input: {
        Filters?: { Key?: string; Values?: string[] }[];
        MaxResults?: number;
        NextToken?: string;
      }) => {
        checkPage('DescribeInstanceInformation', input.MaxResults, 5, 50);
        let rows = information;
        for (const filter of input.Filters ?? []) {
          const values = new Set(filter.Values ?? []);
          if (filter.Key === 'InstanceIds' && values.size > 50)
            throw validationError('DescribeInstanceInformation: at most 50 instance ids per filter');
          const field =
            filter.Key === 'InstanceIds'
              ? 'InstanceId'
              : filter.Key === 'ResourceType'
                ? 'ResourceType'
                : filter.Key === 'IamRole'
                  ? 'IamRole'
                  : undefined;
          if (!field) throw validationError(`unsupported filter key ${filter.Key}`);
          rows = rows.filter((r) => values.has(String(r[field])));
        }
        const { items, next } = page(rows, input.NextToken, input.MaxResults ?? 50);
        return { InstanceInformationList: items, NextToken: next };
      },
    ),
  );
  const settings = (snapshot.ssm?.ServiceSettings ?? []) as Json[];
  mocks.ssm.on(GetServiceSettingCommand as never).callsFake(
    handle('ssm:GetServiceSetting', (input: { SettingId?: string }) => {
      const setting = settings.find((s) => s.SettingId === input.SettingId);
      if (!setting)
        throw new ServiceSettingNotFound({
          message: `ServiceSetting ${input.SettingId} not found`,
          $metadata: {},
        });
      return { ServiceSetting: setting };
    }),
  );
  const activations = (snapshot.ssm?.ActivationList ?? []) as Json[];
  mocks.ssm.on(DescribeActivationsCommand as never).callsFake(
    handle('ssm:DescribeActivations', (input: { MaxResults?: number; NextToken?: string }) => {
      checkPage('DescribeActivations', input.MaxResults, 1, 50);
      const { items, next } = page(activations, input.NextToken, input.MaxResults ?? 50);
      return { ActivationList: items, NextToken: next };
    }),
  );

  // ------------------------------------------------------------------ IAM
  const roles = new Map<string, Json>();
  const profiles = new Map<string, { profile: Json; roles: Json[] }>();
  for (const role of (snapshot.iam?.RoleDetailList ?? []) as Json[]) {
    roles.set(String(role.RoleName).toLowerCase(), role);
    for (const profile of (role.InstanceProfileList as Json[] | undefined) ?? []) {
      const entry = profiles.get(String(profile.InstanceProfileName)) ?? { profile, roles: [] };
      entry.roles.push(role);
      profiles.set(String(profile.InstanceProfileName), entry);
    }
  }
  const policies = new Map<string, Json>();
  for (const policy of (snapshot.iam?.Policies ?? []) as Json[]) policies.set(String(policy.Arn), policy);
  const noSuchEntity = (what: string) =>
    new NoSuchEntityException({ message: `The ${what} cannot be found.`, $metadata: {} });
  const roleShape = (role: Json) => ({
    RoleName: role.RoleName,
    Arn: role.Arn,
    Path: role.Path ?? '/',
    RoleId: role.RoleId ?? 'AROAEXAMPLE',
    CreateDate: '2024-01-01T00:00:00Z',
    AssumeRolePolicyDocument:
      role.AssumeRolePolicyDocument === undefined ? undefined : encodeDocument(role.AssumeRolePolicyDocument),
  });
  const roleOr404 = (name: string | undefined) => {
    const role = roles.get(String(name).toLowerCase());
    if (!role) throw noSuchEntity(`role with name ${name}`);
    return role;
  };
  const marker = <T>(items: readonly T[], input: { Marker?: string; MaxItems?: number }) => {
    const { items: pageItems, next } = page(items, input.Marker, input.MaxItems ?? 100);
    return { pageItems, IsTruncated: next !== undefined, Marker: next };
  };

  mocks.iam.on(GetInstanceProfileCommand as never).callsFake(
    handle('iam:GetInstanceProfile', (input: { InstanceProfileName?: string }) => {
      const entry = profiles.get(String(input.InstanceProfileName));
      if (!entry) throw noSuchEntity(`Instance Profile ${input.InstanceProfileName}`);
      return {
        InstanceProfile: {
          Path: '/',
          InstanceProfileId: 'AIPAEXAMPLE',
          CreateDate: '2024-01-01T00:00:00Z',
          ...entry.profile,
          Roles: entry.roles.map(roleShape),
        },
      };
    }),
  );
  mocks.iam.on(ListInstanceProfilesForRoleCommand as never).callsFake(
    handle(
      'iam:ListInstanceProfilesForRole',
      (input: { RoleName?: string; Marker?: string; MaxItems?: number }) => {
        const role = roleOr404(input.RoleName);
        const list = [...profiles.values()]
          .filter((p) => p.roles.includes(role))
          .map((p) => ({ Path: '/', ...p.profile, Roles: p.roles.map(roleShape) }));
        const { pageItems, IsTruncated, Marker } = marker(list, input);
        return { InstanceProfiles: pageItems, IsTruncated, Marker };
      },
    ),
  );
  mocks.iam.on(GetRoleCommand as never).callsFake(
    handle('iam:GetRole', (input: { RoleName?: string }) => {
      const role = roleOr404(input.RoleName);
      return { Role: { ...roleShape(role), PermissionsBoundary: role.PermissionsBoundary } };
    }),
  );
  mocks.iam.on(ListAttachedRolePoliciesCommand as never).callsFake(
    handle(
      'iam:ListAttachedRolePolicies',
      (input: { RoleName?: string; Marker?: string; MaxItems?: number }) => {
        const role = roleOr404(input.RoleName);
        const { pageItems, IsTruncated, Marker } = marker(
          (role.AttachedManagedPolicies as Json[] | undefined) ?? [],
          input,
        );
        return { AttachedPolicies: pageItems, IsTruncated, Marker };
      },
    ),
  );
  mocks.iam.on(ListRolePoliciesCommand as never).callsFake(
    handle('iam:ListRolePolicies', (input: { RoleName?: string; Marker?: string; MaxItems?: number }) => {
      const role = roleOr404(input.RoleName);
      const names = ((role.RolePolicyList as Json[] | undefined) ?? []).map((p) => String(p.PolicyName));
      const { pageItems, IsTruncated, Marker } = marker(names, input);
      return { PolicyNames: pageItems, IsTruncated, Marker };
    }),
  );
  mocks.iam.on(GetRolePolicyCommand as never).callsFake(
    handle('iam:GetRolePolicy', (input: { RoleName?: string; PolicyName?: string }) => {
      const role = roleOr404(input.RoleName);
      const inline = ((role.RolePolicyList as Json[] | undefined) ?? []).find(
        (p) => p.PolicyName === input.PolicyName,
      );
      if (!inline) throw noSuchEntity(`role policy with name ${input.PolicyName}`);
      return {
        RoleName: role.RoleName,
        PolicyName: inline.PolicyName,
        PolicyDocument: encodeDocument(inline.PolicyDocument),
      };
    }),
  );
  const defaultVersion = (policy: Json) => {
    const versions = (policy.PolicyVersionList as Json[] | undefined) ?? [];
    return (
      versions.find((v) => v.IsDefaultVersion === true) ??
      versions.find((v) => v.VersionId !== undefined && v.VersionId === policy.DefaultVersionId) ??
      (versions.length === 1 ? versions[0] : undefined)
    );
  };
  mocks.iam.on(GetPolicyCommand as never).callsFake(
    handle('iam:GetPolicy', (input: { PolicyArn?: string }) => {
      const policy = policies.get(String(input.PolicyArn));
      if (!policy) throw noSuchEntity(`Policy ${input.PolicyArn}`);
      return {
        Policy: {
          PolicyName: policy.PolicyName ?? roleNameOf(String(policy.Arn)),
          Arn: policy.Arn,
          DefaultVersionId: policy.DefaultVersionId ?? defaultVersion(policy)?.VersionId ?? 'v1',
          IsAttachable: true,
        },
      };
    }),
  );
  mocks.iam.on(GetPolicyVersionCommand as never).callsFake(
    handle('iam:GetPolicyVersion', (input: { PolicyArn?: string; VersionId?: string }) => {
      const policy = policies.get(String(input.PolicyArn));
      const version = policy ? defaultVersion(policy) : undefined;
      if (!policy || !version) throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId}`);
      return {
        PolicyVersion: {
          Document: encodeDocument(version.Document),
          VersionId: input.VersionId,
          IsDefaultVersion: true,
          CreateDate: '2024-01-01T00:00:00Z',
        },
      };
    }),
  );

  mocks.iam.on(GetAccountAuthorizationDetailsCommand as never).callsFake(
    handle(
      'iam:GetAccountAuthorizationDetails',
      (input: { Filter?: string[]; Marker?: string; MaxItems?: number }) => {
        if (input.MaxItems !== undefined && (input.MaxItems < 1 || input.MaxItems > 1000))
          throw validationError('GetAccountAuthorizationDetails: MaxItems must be between 1 and 1000');
        const filter = new Set(
          input.Filter ?? ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'],
        );
        const encodeRole = (role: Json) => ({
          ...role,
          CreateDate: '2024-01-01T00:00:00Z',
          AssumeRolePolicyDocument:
            role.AssumeRolePolicyDocument === undefined
              ? undefined
              : encodeDocument(role.AssumeRolePolicyDocument),
          RolePolicyList: ((role.RolePolicyList as Json[] | undefined) ?? []).map((p) => ({
            ...p,
            PolicyDocument: encodeDocument(p.PolicyDocument),
          })),
        });
        const encodePolicy = (policy: Json) => ({
          ...policy,
          PolicyVersionList: ((policy.PolicyVersionList as Json[] | undefined) ?? []).map((v) => ({
            ...v,
            Document: encodeDocument(v.Document),
          })),
        });
        const isAws = (arn: string) =>
          arn.startsWith('arn:aws:iam::aws:') || /^arn:aws[\w-]*:iam::aws:/.test(arn);
        const entries: ({ role: Json } | { policy: Json })[] = [
          ...(filter.has('Role') ? [...roles.values()].map((role) => ({ role: encodeRole(role) })) : []),
          ...[...policies.values()]
            .filter((p) =>
              isAws(String(p.Arn)) ? filter.has('AWSManagedPolicy') : filter.has('LocalManagedPolicy'),
            )
            .map((policy) => ({ policy: encodePolicy(policy) })),
        ];
        const { pageItems, IsTruncated, Marker } = marker(entries, input);
        return {
          RoleDetailList: pageItems.flatMap((e) => ('role' in e ? [e.role] : [])),
          Policies: pageItems.flatMap((e) => ('policy' in e ? [e.policy] : [])),
          UserDetailList: [],
          GroupDetailList: [],
          IsTruncated,
          Marker,
        };
      },
    ),
  );

  // ------------------------------------------------------------------ STS
  mocks.sts.on(GetCallerIdentityCommand as never).callsFake(
    handle('sts:GetCallerIdentity', () => ({
      Account: snapshot.accountId,
      Arn: `arn:aws:sts::${snapshot.accountId}:assumed-role/auditor/session`,
      UserId: 'AROAEXAMPLE:session',
    })),
  );
}
