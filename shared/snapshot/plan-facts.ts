import type { Snapshot, SnapshotInput } from './schema';

/**
 * The facts of a snapshot the fix plan (DESIGN §8) fills its commands in from and assesses its endpoint
 * sets on: the network (instances' placement, addresses, security groups, IMDS options, Name and launch
 * template; VPCs, subnets, route tables, security groups, network ACLs, endpoints without their policies,
 * gateways), agent versions and node names, and activations. No IAM: what the plan needs of it is in the
 * findings' evidence.
 *
 * A whole-region audit keeps these with its findings, so `ssm-audit plan --table` plans from the table
 * alone. The result is itself a snapshot (it parses with the snapshot schema); the plan built from it
 * equals the plan built from the full snapshot (test/plan/plan-facts.test.ts).
 */
export function planFactsOf(snapshot: Snapshot): SnapshotInput & { collectedAt: string } {
  const ec2 = snapshot.ec2;
  const ssm = snapshot.ssm;
  const some = <T>(list: T[] | undefined) => (list && list.length > 0 ? list : undefined);
  // The Name, and the launch template EC2 tags an instance with (the plan's IMDSv2 fix updates it).
  const KEPT_TAGS = ['Name', 'aws:ec2launchtemplate:id', 'aws:ec2launchtemplate:version'];
  const name = (tags: { Key: string; Value?: string }[] | undefined) =>
    some(tags?.filter((t) => KEPT_TAGS.includes(t.Key)).map((t) => ({ Key: t.Key, Value: t.Value ?? '' })));
  return {
    schemaVersion: 1,
    accountId: snapshot.accountId,
    region: snapshot.region,
    partition: snapshot.partition,
    collectedAt: snapshot.collectedAt,
    ...(ec2
      ? {
          ec2: {
            Reservations: ec2.Reservations?.map((r) => ({
              Instances: r.Instances.map((i) => ({
                InstanceId: i.InstanceId,
                State: { Name: i.State.Name },
                VpcId: i.VpcId,
                SubnetId: i.SubnetId,
                PrivateIpAddress: i.PrivateIpAddress,
                PublicIpAddress: i.PublicIpAddress,
                Placement: i.Placement,
                MetadataOptions: i.MetadataOptions,
                SecurityGroups: i.SecurityGroups?.map((g) => ({ GroupId: g.GroupId })),
                NetworkInterfaces: i.NetworkInterfaces,
                Tags: name(i.Tags),
              })),
            })),
            Vpcs: ec2.Vpcs?.map((v) => ({
              VpcId: v.VpcId,
              CidrBlock: v.CidrBlock,
              CidrBlockAssociationSet: v.CidrBlockAssociationSet,
              EnableDnsSupport: v.EnableDnsSupport,
              EnableDnsHostnames: v.EnableDnsHostnames,
            })),
            Subnets: ec2.Subnets?.map((s) => ({
              SubnetId: s.SubnetId,
              VpcId: s.VpcId,
              CidrBlock: s.CidrBlock,
              AvailabilityZone: s.AvailabilityZone,
            })),
            // The network as the agent's path is assessed on it (the plan assesses a VPC with its
            // planned endpoints): routes, security group rules, network ACLs, gateways.
            RouteTables: ec2.RouteTables?.map(({ Tags: _tags, ...t }) => t),
            SecurityGroups: ec2.SecurityGroups,
            NetworkAcls: ec2.NetworkAcls,
            // Endpoint policies are left out: the plan does not read them.
            VpcEndpoints: ec2.VpcEndpoints?.map(({ PolicyDocument: _policy, ...e }) => e),
            InternetGateways: ec2.InternetGateways,
            NatGateways: ec2.NatGateways,
          },
        }
      : {}),
    ...(ssm
      ? {
          ssm: {
            // Names, and the agent version (which endpoints an instance's agent needs).
            InstanceInformationList: ssm.InstanceInformationList?.map((n) => ({
              InstanceId: n.InstanceId,
              AgentVersion: n.AgentVersion,
              Name: n.Name,
              ComputerName: n.ComputerName,
            })),
            ActivationList: ssm.ActivationList?.map((a) => ({
              ActivationId: a.ActivationId,
              IamRole: a.IamRole,
              RegistrationLimit: a.RegistrationLimit,
            })),
          },
        }
      : {}),
  };
}
