import type { Fix, FixChange } from './plan';
import { hybridTrustPolicy as trustPolicyOf } from '../../shared/agent/permissions';
import { regionalSsmBuckets } from '../../shared/knowledge/ssm-requirements';
import type { Snapshot } from '../../shared/snapshot/schema';

/**
 * Edits a snapshot the way a fix's AWS CLI commands would edit the account, so a re-audit shows what
 * the fix really achieves: endpoints created available with private DNS, a managed policy attached, an
 * inline policy put, IMDSv2 required, a network ACL entry or security group rule added, … Returns a new
 * snapshot; the input is not changed.
 *
 * The plan uses it to see what an endpoint set changes for the other instances of its VPC (their
 * network path once the agent resolves the endpoints); the tests use it to re-audit a planned fleet.
 */

/** AWS's documented trust policy for the hybrid service role (shared/agent/permissions.ts). */
export const hybridTrustPolicy = (partition: string, region: string, accountId: string) =>
  trustPolicyOf({ partition, region, accountId });

/** The trust AWS's DHMC setup gives its role: Systems Manager assumes it. */
export const SSM_SERVICE_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

export function applyFixes(snapshot: Snapshot, fixes: readonly Fix[]): Snapshot {
  const next = structuredClone(snapshot);
  let created = 0;
  const newId = (prefix: string) => `${prefix}-0f1a2b3c4d5e6f${String(++created).padStart(3, '0')}`;
  for (const fix of fixes) applyChange(next, fix.change, newId);
  return next;
}

export function applyChange(s: Snapshot, change: FixChange, newId: (prefix: string) => string): void {
  const ec2 = s.ec2!;
  const instances = () => (ec2.Reservations ?? []).flatMap((r) => r.Instances);
  const role = (name: string) => {
    const found = s.iam?.RoleDetailList?.find((r) => r.RoleName === name);
    if (!found) throw new Error(`apply-fix: no role ${name} in the snapshot`);
    return found;
  };
  const partition = s.partition ?? 'aws';
  switch (change.kind) {
    case 'vpc-endpoints': {
      const vpc = ec2.Vpcs?.find((v) => v.VpcId === change.vpcId);
      if (!vpc) throw new Error(`apply-fix: no ${change.vpcId}`);
      if (change.enableVpcDns) {
        vpc.EnableDnsSupport = { Value: true };
        vpc.EnableDnsHostnames = { Value: true };
      }
      let groupId: string;
      if ('existing' in change.securityGroup) groupId = change.securityGroup.existing;
      else {
        groupId = newId('sg');
        (ec2.SecurityGroups ??= []).push({
          GroupId: groupId,
          GroupName: change.securityGroup.create,
          VpcId: change.vpcId,
          IpPermissions: change.securityGroup.cidrs.map((cidr) => ({
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: cidr }],
          })),
          // create-security-group adds the default allow-all egress rule.
          IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        } as NonNullable<typeof ec2.SecurityGroups>[number]);
      }
      for (const service of change.create)
        (ec2.VpcEndpoints ??= []).push({
          VpcEndpointId: newId('vpce'),
          VpcEndpointType: 'Interface',
          VpcId: change.vpcId,
          ServiceName: `com.amazonaws.${s.region}.${service}`,
          State: 'available',
          SubnetIds: [...change.subnetIds],
          Groups: [{ GroupId: groupId, GroupName: groupId }],
          PrivateDnsEnabled: true,
          RouteTableIds: [],
        } as NonNullable<typeof ec2.VpcEndpoints>[number]);
      for (const id of change.enablePrivateDns) endpoint(s, id).PrivateDnsEnabled = true;
      for (const add of change.addSubnets) {
        const e = endpoint(s, add.endpointId);
        e.SubnetIds = [...new Set([...(e.SubnetIds ?? []), ...add.subnetIds])];
      }
      if (change.s3Gateway) {
        if (change.s3Gateway.endpointId) {
          const e = endpoint(s, change.s3Gateway.endpointId);
          e.RouteTableIds = [...new Set([...(e.RouteTableIds ?? []), ...change.s3Gateway.routeTableIds])];
        } else
          (ec2.VpcEndpoints ??= []).push({
            VpcEndpointId: newId('vpce'),
            VpcEndpointType: 'Gateway',
            VpcId: change.vpcId,
            ServiceName: `com.amazonaws.${s.region}.s3`,
            State: 'available',
            RouteTableIds: [...change.s3Gateway.routeTableIds],
            SubnetIds: [],
            Groups: [],
          } as NonNullable<typeof ec2.VpcEndpoints>[number]);
      }
      for (const grant of change.s3Grants ?? []) putS3Policy(role(grant.roleName), grant.buckets, partition);
      for (const companion of change.companions ?? []) applyChange(s, companion.change, newId);
      for (const rule of change.ingress) {
        const group = ec2.SecurityGroups?.find((g) => g.GroupId === rule.groupId);
        if (!group) throw new Error(`apply-fix: no ${rule.groupId}`);
        (group.IpPermissions ??= []).push({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          UserIdGroupPairs: [{ GroupId: rule.sourceGroupId }],
        } as NonNullable<typeof group.IpPermissions>[number]);
      }
      return;
    }
    case 'attach-policy':
      (role(change.roleName).AttachedManagedPolicies ??= []).push({
        PolicyName: change.policyName,
        PolicyArn: `arn:${partition}:iam::aws:policy/${change.policyName}`,
      });
      return;
    case 's3-policy':
      putS3Policy(role(change.roleName), change.buckets, partition);
      return;
    case 'hybrid-role-trust': {
      const trust = hybridTrustPolicy(partition, s.region, s.accountId);
      if (change.create) {
        s.iam!.RoleDetailList!.push({
          RoleName: change.roleName,
          Arn: `arn:${partition}:iam::${s.accountId}:role/${change.roleName}`,
          Path: '/',
          AssumeRolePolicyDocument: trust,
          RolePolicyList: [],
          AttachedManagedPolicies: [
            {
              PolicyName: 'AmazonSSMManagedInstanceCore',
              PolicyArn: `arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
            },
          ],
        } as NonNullable<NonNullable<Snapshot['iam']>['RoleDetailList']>[number]);
      } else role(change.roleName).AssumeRolePolicyDocument = trust;
      return;
    }
    case 'imdsv2':
      for (const i of instances())
        if (change.instanceIds.includes(i.InstanceId))
          i.MetadataOptions = { ...i.MetadataOptions, HttpTokens: 'required', HttpEndpoint: 'enabled' };
      return;
    case 'update-agent':
      for (const info of s.ssm?.InstanceInformationList ?? [])
        if (change.instanceIds.includes(info.InstanceId)) info.AgentVersion = '3.3.1611.0';
      return;
    case 'sg-egress-443': {
      const group = ec2.SecurityGroups?.find((g) => g.GroupId === change.groupId);
      if (!group) throw new Error(`apply-fix: no ${change.groupId}`);
      (group.IpPermissionsEgress ??= []).push({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
      } as NonNullable<typeof group.IpPermissionsEgress>[number]);
      return;
    }
    case 'nacl-allow': {
      const acl = ec2.NetworkAcls?.find((a) => a.NetworkAclId === change.networkAclId);
      if (!acl) throw new Error(`apply-fix: no ${change.networkAclId}`);
      if (acl.Entries?.some((e) => Boolean(e.Egress) === change.egress && e.RuleNumber === change.ruleNumber))
        throw new Error(
          `apply-fix: rule ${change.ruleNumber} already exists (create-network-acl-entry would fail)`,
        );
      (acl.Entries ??= []).push({
        RuleNumber: change.ruleNumber,
        Egress: change.egress,
        RuleAction: 'allow',
        Protocol: '6',
        CidrBlock: '0.0.0.0/0',
        PortRange: { From: change.from, To: change.to },
      } as NonNullable<typeof acl.Entries>[number]);
      return;
    }
    case 'dhmc-role':
      (s.iam ??= {}).RoleDetailList ??= [];
      s.iam.RoleDetailList!.push({
        RoleName: change.roleName,
        Arn: `arn:${partition}:iam::${s.accountId}:role/service-role/${change.roleName}`,
        Path: '/service-role/',
        AssumeRolePolicyDocument: SSM_SERVICE_TRUST,
        RolePolicyList: [],
        AttachedManagedPolicies: [
          {
            PolicyName: 'AmazonSSMManagedEC2InstanceDefaultPolicy',
            PolicyArn: `arn:${partition}:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy`,
          },
        ],
      } as NonNullable<NonNullable<Snapshot['iam']>['RoleDetailList']>[number]);
      putS3Policy(role(change.roleName), regionalSsmBuckets(s.region), partition);
      return;
    case 'dhmc-setting': {
      const setting = s.ssm?.ServiceSettings?.find(
        (x) => x.SettingId === '/ssm/managed-instance/default-ec2-instance-management-role',
      );
      if (setting) setting.SettingValue = `service-role/${change.roleName}`;
      return;
    }
    case 'renew-activation':
      return;
  }
}

function endpoint(s: Snapshot, id: string) {
  const e = s.ec2?.VpcEndpoints?.find((x) => x.VpcEndpointId === id);
  if (!e) throw new Error(`apply-fix: no endpoint ${id}`);
  return e;
}

/** put-role-policy: the inline policy of that name is replaced, or added. */
function putS3Policy(
  role: NonNullable<NonNullable<Snapshot['iam']>['RoleDetailList']>[number],
  buckets: readonly string[],
  partition: string,
): void {
  const policy = {
    PolicyName: 'SSMAgentS3Access',
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: buckets.map((b) => `arn:${partition}:s3:::${b}/*`),
        },
      ],
    },
  };
  role.RolePolicyList = [
    ...(role.RolePolicyList ?? []).filter((p) => p.PolicyName !== policy.PolicyName),
    policy,
  ];
}
