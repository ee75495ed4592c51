/**
 * Benchmark section: API calls per audit (issue 3). A fleet of N instances sharing 20 instance profiles
 * in 3 VPCs is served by the snapshot-backed fake AWS (aws-sdk-client-mock, in process) and collected
 * by the real collector; the calls it makes are counted per action and compared with the minimum that
 * DESIGN §2 allows: DescribeInstances at 1,000 per page, DescribeInstanceInformation at 50 per page,
 * network objects once per region (DNS attributes once per VPC with SSM endpoints), IAM once per
 * account listing or policy. A one-instance scoped collection of the same account is measured too.
 */
import { performance } from 'node:perf_hooks';
import { createAwsClients, destroyAwsClients } from '../../shared/aws/clients';
import { collectSnapshot } from '../../shared/collect/collect';
import { EVALUATOR_FETCH_PLAN } from '../../shared/engine/fetch-plan';
import { DESCRIBE_INSTANCES_PAGE, isAgentEndpoint } from '../../shared/collect/ec2';
import { GAAD_PAGE } from '../../shared/collect/iam';
import { DESCRIBE_INSTANCE_INFORMATION_PAGE } from '../../shared/collect/ssm';
import { AWS_MANAGED_POLICY_DOCUMENTS } from '../../shared/knowledge/aws-managed-policies';
import type { SnapshotInput } from '../../shared/snapshot/schema';
import { buildCollectionFleet } from '../../test/support/collection-fleet';
import { fakeAwsFromSnapshot } from '../../test/support/fake-aws';

export const API_CALL_SIZES = [1_000, 10_000, 100_000];
/** The issue's budget for a scoped collection of one instance. */
export const ONE_INSTANCE_BUDGET = 15;

export interface ApiCallRow {
  instances: number;
  registered: number;
  describeInstances: number;
  describeInstanceInformation: number;
  network: number;
  iam: number;
  other: number;
  total: number;
  minimum: number;
  seconds: number;
  oneInstance: number;
}

const NETWORK_LISTINGS = [
  'ec2:DescribeVpcs',
  'ec2:DescribeSubnets',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeNetworkAcls',
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeInternetGateways',
  'ec2:DescribeNatGateways',
];

/**
 * DESIGN §2's minimum for a whole-region audit of this account, computed from the account itself, not
 * from what the collector did: one request per API page at the APIs' largest page sizes.
 */
export function minimumCalls(snapshot: SnapshotInput): number {
  const instances = (snapshot.ec2?.Reservations ?? []).reduce((n, r) => n + r.Instances.length, 0);
  const registered = snapshot.ssm?.InstanceInformationList?.length ?? 0;
  const pages = (n: number, size: number) => Math.max(1, Math.ceil(n / size));
  const endpointVpcs = new Set(
    (snapshot.ec2?.VpcEndpoints ?? []).filter((e) => isAgentEndpoint(e, snapshot.region)).map((e) => e.VpcId),
  );
  const roles = snapshot.iam?.RoleDetailList ?? [];
  const local = (snapshot.iam?.Policies ?? []).filter((p) => !p.Arn.startsWith('arn:aws:iam::aws:'));
  const awsManagedToFetch = new Set(
    roles
      .flatMap((r) => (r.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn))
      .filter(
        (arn) => arn.startsWith('arn:aws:iam::aws:') && AWS_MANAGED_POLICY_DOCUMENTS[arn] === undefined,
      ),
  );
  return (
    pages(instances, DESCRIBE_INSTANCES_PAGE) +
    pages(registered, DESCRIBE_INSTANCE_INFORMATION_PAGE) +
    NETWORK_LISTINGS.length +
    2 * endpointVpcs.size +
    2 + // GetServiceSetting: DHMC role and activation tier
    pages(snapshot.ssm?.ActivationList?.length ?? 0, 50) +
    pages(roles.length + local.length, GAAD_PAGE) +
    2 * awsManagedToFetch.size // GetPolicy + GetPolicyVersion
  );
}

export async function measureApiCalls(instances: number): Promise<ApiCallRow> {
  const { snapshot, counts } = buildCollectionFleet({ instances });
  const fake = fakeAwsFromSnapshot(snapshot);
  const clients = createAwsClients({ region: snapshot.region });
  try {
    const t0 = performance.now();
    await collectSnapshot(clients, { region: snapshot.region });
    const seconds = (performance.now() - t0) / 1000;
    const calls = new Map(fake.calls);
    const sum = (predicate: (action: string) => boolean) =>
      [...calls].filter(([a]) => predicate(a)).reduce((n, [, c]) => n + c, 0);
    fake.calls.clear();
    await collectSnapshot(clients, {
      region: snapshot.region,
      scope: { kind: 'instances', instanceIds: ['i-00000000000000003'] },
      plan: EVALUATOR_FETCH_PLAN,
    });
    const oneInstance = fake.totalCalls();
    const describeInstances = calls.get('ec2:DescribeInstances') ?? 0;
    const describeInstanceInformation = calls.get('ssm:DescribeInstanceInformation') ?? 0;
    const network = sum((a) => NETWORK_LISTINGS.includes(a) || a === 'ec2:DescribeVpcAttribute');
    const iam = sum((a) => a.startsWith('iam:'));
    const total = sum(() => true);
    return {
      instances,
      registered: counts.managed + counts.hybridNodes,
      describeInstances,
      describeInstanceInformation,
      network,
      iam,
      other: total - describeInstances - describeInstanceInformation - network - iam,
      total,
      minimum: minimumCalls(snapshot),
      seconds,
      oneInstance,
    };
  } finally {
    fake.restore();
    destroyAwsClients(clients);
  }
}

export function renderApiCallRows(
  rows: readonly ApiCallRow[],
  renderTable: (h: string[], r: string[][]) => string,
) {
  const n = (v: number) => v.toLocaleString('en-US');
  return `${renderTable(
    [
      'instances',
      'registered',
      'DescribeInstances',
      'DescribeInstanceInfo',
      'network',
      'IAM',
      'other',
      'total',
      'DESIGN §2 minimum',
      'vs minimum',
      'collect s',
      '1-instance scope',
    ],
    rows.map((r) => [
      n(r.instances),
      n(r.registered),
      n(r.describeInstances),
      n(r.describeInstanceInformation),
      n(r.network),
      n(r.iam),
      n(r.other),
      n(r.total),
      n(r.minimum),
      r.total === r.minimum ? 'at minimum' : `${r.total > r.minimum ? '+' : ''}${r.total - r.minimum}`,
      r.seconds.toFixed(2),
      `${r.oneInstance} (budget ${ONE_INSTANCE_BUDGET}${r.oneInstance <= ONE_INSTANCE_BUDGET ? ', met' : ', MISSED'})`,
    ]),
  )}\n(20 instance profiles, 3 VPCs, 80 % of instances registered, 10 hybrid nodes; mocked AWS in process, so "collect s" is the collector's own cost, not AWS latency)`;
}
