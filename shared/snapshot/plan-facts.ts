import type { Snapshot, SnapshotInput } from './schema';

/**
 * The facts of a snapshot the fix plan (DESIGN §8) fills its commands in from, and nothing else: the
 * instances' network placement, Name and launch template, the VPCs' DNS attributes and CIDRs, subnets' zones, route
 * table associations, endpoints, network ACL entries, hybrid node names and activations.
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
                SecurityGroups: i.SecurityGroups?.map((g) => ({ GroupId: g.GroupId })),
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
              AvailabilityZone: s.AvailabilityZone,
            })),
            RouteTables: ec2.RouteTables?.map((t) => ({
              RouteTableId: t.RouteTableId,
              VpcId: t.VpcId,
              Associations: some(
                t.Associations?.filter((a) => a.Main || a.SubnetId).map((a) => ({
                  ...(a.Main ? { Main: true } : {}),
                  SubnetId: a.SubnetId,
                })),
              ),
            })),
            NetworkAcls: ec2.NetworkAcls?.map((a) => ({
              NetworkAclId: a.NetworkAclId,
              VpcId: a.VpcId,
              Entries: a.Entries?.map((e) => ({
                RuleNumber: e.RuleNumber,
                Protocol: e.Protocol,
                RuleAction: e.RuleAction,
                Egress: e.Egress,
              })),
            })),
            VpcEndpoints: ec2.VpcEndpoints?.map((e) => ({
              VpcEndpointId: e.VpcEndpointId,
              VpcEndpointType: e.VpcEndpointType,
              VpcId: e.VpcId,
              ServiceName: e.ServiceName,
              Groups: e.Groups?.map((g) => ({ GroupId: g.GroupId })),
              RouteTableIds: some(e.RouteTableIds),
            })),
          },
        }
      : {}),
    ...(ssm
      ? {
          ssm: {
            InstanceInformationList: ssm.InstanceInformationList?.filter((n) => n.Name || n.ComputerName).map(
              (n) => ({ InstanceId: n.InstanceId, Name: n.Name, ComputerName: n.ComputerName }),
            ),
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
