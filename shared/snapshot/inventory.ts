import { AWS_MANAGED_POLICY_DOCUMENTS } from '../knowledge/aws-managed-policies';
import { SnapshotValidationError } from '../errors';
import { parseCidr, type Ipv4Range } from './ipv4';
import { parsePolicyDocument, type PolicyDocument } from '../policy/document';
import type { NamedPolicy } from '../policy/evaluator';
import {
  SECTIONS,
  type ActivationRaw,
  type CallRecord,
  type Ec2InstanceRaw,
  type InstanceInformationRaw,
  type InternetGatewayRaw,
  type NatGatewayRaw,
  type NetworkAclRaw,
  type OrganizationsSection,
  type RouteTableRaw,
  type SectionKey,
  type SecurityGroupRaw,
  type ServiceSettingRaw,
  type Snapshot,
  type SubnetRaw,
  type VpcEndpointRaw,
  type VpcRaw,
} from './schema';
import { DHMC_SETTING_ID, TIER_SETTING_ID } from '../knowledge/ssm-requirements';

/**
 * The normalized, indexed view of one snapshot that rules read. Built once per audit; every lookup a
 * rule needs per instance is a Map access, so evaluation stays linear in the fleet size.
 */

export type SectionAvailability =
  | { available: true }
  | { available: false; status: 'denied' | 'error' | 'missing'; call: string; error?: string };

export interface Ec2Instance {
  id: string;
  state: string;
  raw: Ec2InstanceRaw;
  vpcId?: string;
  subnetId?: string;
  availabilityZone?: string;
  privateIp?: string;
  publicIp?: string;
  instanceProfileArn?: string;
  securityGroupIds: string[];
  /** MetadataOptions.HttpTokens === 'required' and the endpoint is not disabled. */
  imdsV2Required: boolean;
  metadataEndpointEnabled: boolean;
  tags: ReadonlyMap<string, string>;
  /** The SSM registration for this instance, when DescribeInstanceInformation lists it. */
  info?: InstanceInformationRaw;
}

export interface HybridNode {
  id: string;
  info: InstanceInformationRaw;
  roleName?: string;
  activationId?: string;
}

export interface RoleView {
  name: string;
  arn: string;
  trust?: PolicyDocument;
  identityPolicies: NamedPolicy[];
  permissionsBoundary?: NamedPolicy;
  /** Attached managed policies whose document is in neither the snapshot nor the built-in copies. */
  unresolvedPolicyArns: string[];
  attachedPolicyArns: string[];
  /** Managed policies whose document came from the built-in AWS copies. */
  builtInPolicyArns: string[];
}

export interface InstanceProfileView {
  arn: string;
  name: string;
  roleName: string;
}

export interface VpcView {
  id: string;
  raw: VpcRaw;
  cidrs: Ipv4Range[];
  dnsSupport?: boolean;
  dnsHostnames?: boolean;
  endpoints: VpcEndpointRaw[];
  internetGatewayIds: Set<string>;
  mainRouteTable?: RouteTableRaw;
}

export type DhmcState =
  | { state: 'on'; roleName: string; settingValue: string }
  | { state: 'off'; settingValue?: string }
  | { state: 'unknown'; availability: SectionAvailability };

/** A target of the chain root → OU(s) → account that SCPs are attached to. */
export interface ScpTarget {
  id: string;
  type: 'ROOT' | 'ORGANIZATIONAL_UNIT' | 'ACCOUNT';
  name?: string;
}

/** An SCP attached to a target; `document` is absent when DescribePolicy did not return it. */
export interface ScpPolicyView {
  id: string;
  name?: string;
  arn?: string;
  awsManaged: boolean;
  document?: PolicyDocument;
}

export interface ScpLevel extends ScpTarget {
  /** The SCPs attached here; undefined when ListPoliciesForTarget failed for this target. */
  policies?: ScpPolicyView[];
}

/**
 * The service control policies the snapshot holds for the account (DESIGN §7):
 * - notCollected: no `organizations` section and no failed Organizations call (single-account use);
 * - unavailable: no section because an Organizations call failed (recorded in `calls`);
 * - collected: the chain root → OU(s) → account as collected, possibly with gaps the SCP layer reports.
 */
export type OrganizationsView =
  | { state: 'notCollected' }
  | { state: 'unavailable'; availability: Extract<SectionAvailability, { available: false }> }
  | {
      state: 'collected';
      organizationId?: string;
      managementAccountId?: string;
      /** Root first, account last; undefined when ListParents failed. */
      chain?: ScpLevel[];
      /** Organizations calls recorded as failed in `calls` (what a gap is due to). */
      failedCalls: { call: string; status: 'denied' | 'error'; error: string }[];
    };

export interface Inventory {
  accountId: string;
  region: string;
  partition: string;
  collectedAt: Date;
  calls: Readonly<Record<string, CallRecord>>;
  instances: ReadonlyMap<string, Ec2Instance>;
  hybridNodes: ReadonlyMap<string, HybridNode>;
  vpcs: ReadonlyMap<string, VpcView>;
  subnets: ReadonlyMap<string, SubnetRaw>;
  subnetCidrs: ReadonlyMap<string, Ipv4Range>;
  securityGroups: ReadonlyMap<string, SecurityGroupRaw>;
  internetGateways: ReadonlyMap<string, InternetGatewayRaw>;
  natGateways: ReadonlyMap<string, NatGatewayRaw>;
  /**
   * Parsed `PolicyDocument` of each VPC endpoint that has one, by endpoint id. An endpoint without one has
   * the default policy, which "grants full access to the endpoint"
   * (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html).
   */
  endpointPolicies: ReadonlyMap<string, PolicyDocument>;
  roles: ReadonlyMap<string, RoleView>;
  instanceProfiles: ReadonlyMap<string, InstanceProfileView>;
  /** Default versions of the managed policies in the snapshot (not the built-in copies), by ARN. */
  managedPolicies: ReadonlyMap<string, PolicyDocument>;
  serviceSettings: ReadonlyMap<string, ServiceSettingRaw>;
  activations: readonly ActivationRaw[];
  dhmc: DhmcState;
  /** Service control policies in force for the account (the optional `organizations` section). */
  organizations: OrganizationsView;
  routeTableForSubnet(subnetId: string): RouteTableRaw | undefined;
  networkAclForSubnet(subnetId: string): NetworkAclRaw | undefined;
  section(key: SectionKey): SectionAvailability;
}

/** A role named `service-role/Foo` or `arn:aws:iam::1:role/service-role/Foo` is the role `Foo`. */
export function roleNameOf(reference: string): string {
  const afterRole = reference.includes(':role/')
    ? reference.slice(reference.indexOf(':role/') + 6)
    : reference;
  const parts = afterRole.split('/');
  return parts[parts.length - 1] ?? afterRole;
}

function sectionPresent(snapshot: Snapshot, key: SectionKey): boolean {
  if (key === 'iam') return snapshot.iam?.RoleDetailList !== undefined;
  if (key === 'organizations') return snapshot.organizations !== undefined;
  const [group, name] = key.split('.') as ['ec2' | 'ssm', string];
  const container = snapshot[group] as Record<string, unknown> | undefined;
  return container?.[name] !== undefined;
}

function computeAvailability(snapshot: Snapshot): Map<SectionKey, SectionAvailability> {
  const out = new Map<SectionKey, SectionAvailability>();
  for (const key of Object.keys(SECTIONS) as SectionKey[]) {
    const calls: readonly string[] = SECTIONS[key];
    const failed = calls.find((call) => snapshot.calls[call] !== undefined);
    if (failed) {
      const record = snapshot.calls[failed]!;
      out.set(key, { available: false, status: record.status, call: failed, error: record.error });
    } else if (!sectionPresent(snapshot, key)) {
      out.set(key, { available: false, status: 'missing', call: calls[0]! });
    } else {
      out.set(key, { available: true });
    }
  }
  return out;
}

function attribute(value: boolean | { Value?: boolean } | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'boolean' ? value : value.Value;
}

function parseDocumentAt(raw: unknown, path: string): PolicyDocument {
  try {
    return parsePolicyDocument(raw);
  } catch (err) {
    throw new SnapshotValidationError(path, (err as Error).message, { cause: err });
  }
}

function buildRoles(snapshot: Snapshot): {
  roles: Map<string, RoleView>;
  profiles: Map<string, InstanceProfileView>;
  managed: Map<string, PolicyDocument>;
} {
  const managed = new Map<string, PolicyDocument>();
  (snapshot.iam?.Policies ?? []).forEach((policy, i) => {
    const versions = policy.PolicyVersionList ?? [];
    const index = versions.findIndex(
      (v) =>
        v.IsDefaultVersion === true ||
        (policy.DefaultVersionId !== undefined && v.VersionId === policy.DefaultVersionId),
    );
    const chosen = index >= 0 ? index : versions.length === 1 ? 0 : -1;
    const version = versions[chosen];
    if (version) {
      managed.set(
        policy.Arn,
        parseDocumentAt(version.Document, `$.iam.Policies[${i}].PolicyVersionList[${chosen}].Document`),
      );
    }
  });
  const builtIn = new Map<string, PolicyDocument>();
  const resolveManaged = (arn: string): { doc?: PolicyDocument; builtIn: boolean } => {
    const fromSnapshot = managed.get(arn);
    if (fromSnapshot) return { doc: fromSnapshot, builtIn: false };
    const known = AWS_MANAGED_POLICY_DOCUMENTS[arn];
    if (known === undefined) return { builtIn: false };
    let doc = builtIn.get(arn);
    if (!doc) {
      doc = parsePolicyDocument(known);
      builtIn.set(arn, doc);
    }
    return { doc, builtIn: true };
  };

  const roles = new Map<string, RoleView>();
  const profiles = new Map<string, InstanceProfileView>();
  (snapshot.iam?.RoleDetailList ?? []).forEach((role, i) => {
    const base = `$.iam.RoleDetailList[${i}]`;
    const identityPolicies: NamedPolicy[] = [];
    const unresolved: string[] = [];
    const builtInArns: string[] = [];
    const attached = (role.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn);
    for (const arn of attached) {
      const { doc, builtIn: fromBuiltIn } = resolveManaged(arn);
      if (doc) identityPolicies.push({ source: arn, document: doc });
      else unresolved.push(arn);
      if (fromBuiltIn) builtInArns.push(arn);
    }
    (role.RolePolicyList ?? []).forEach((inline, j) => {
      identityPolicies.push({
        source: `inline:${role.RoleName}/${inline.PolicyName}`,
        document: parseDocumentAt(inline.PolicyDocument, `${base}.RolePolicyList[${j}].PolicyDocument`),
      });
    });
    let permissionsBoundary: NamedPolicy | undefined;
    if (role.PermissionsBoundary) {
      const arn = role.PermissionsBoundary.PermissionsBoundaryArn;
      const { doc } = resolveManaged(arn);
      if (doc) permissionsBoundary = { source: arn, document: doc };
      else unresolved.push(arn);
    }
    const view: RoleView = {
      name: role.RoleName,
      arn: role.Arn,
      trust:
        role.AssumeRolePolicyDocument === undefined
          ? undefined
          : parseDocumentAt(role.AssumeRolePolicyDocument, `${base}.AssumeRolePolicyDocument`),
      identityPolicies,
      permissionsBoundary,
      unresolvedPolicyArns: unresolved,
      attachedPolicyArns: attached,
      builtInPolicyArns: builtInArns,
    };
    // IAM role names are unique case-insensitively within an account.
    roles.set(role.RoleName.toLowerCase(), view);
    for (const profile of role.InstanceProfileList ?? []) {
      profiles.set(profile.Arn, {
        arn: profile.Arn,
        name: profile.InstanceProfileName,
        roleName: role.RoleName,
      });
    }
  });
  return { roles, profiles, managed };
}

const SCP_TYPE = 'SERVICE_CONTROL_POLICY';

function buildOrganizations(snapshot: Snapshot, availability: SectionAvailability): OrganizationsView {
  const section: OrganizationsSection | undefined = snapshot.organizations;
  if (section === undefined) {
    // Without the section, a recorded failure means "could not read"; no record means "not collected".
    return availability.available || availability.status === 'missing'
      ? { state: 'notCollected' }
      : { state: 'unavailable', availability };
  }
  const documents = new Map<string, PolicyDocument | undefined>();
  (section.Policies ?? []).forEach((policy, i) => {
    const id = policy.PolicySummary.Id;
    if (policy.Content === undefined) {
      if (!documents.has(id)) documents.set(id, undefined);
      return;
    }
    documents.set(id, parseDocumentAt(policy.Content, `$.organizations.Policies[${i}].Content`));
  });
  const failedCalls = SECTIONS.organizations.flatMap((call) => {
    const record = snapshot.calls[call];
    return record ? [{ call, status: record.status, error: record.error }] : [];
  });
  return {
    state: 'collected',
    ...(section.OrganizationId !== undefined ? { organizationId: section.OrganizationId } : {}),
    ...(section.ManagementAccountId !== undefined
      ? { managementAccountId: section.ManagementAccountId }
      : {}),
    ...(section.TargetChain !== undefined
      ? {
          chain: section.TargetChain.map((target) => ({
            id: target.TargetId,
            type: target.Type,
            ...(target.Name !== undefined ? { name: target.Name } : {}),
            ...(target.Policies !== undefined
              ? {
                  // ListPoliciesForTarget is asked for SCPs; other policy types (tag, backup ...) never restrict IAM.
                  policies: target.Policies.filter((p) => (p.Type ?? SCP_TYPE) === SCP_TYPE).map((p) => ({
                    id: p.Id,
                    ...(p.Name !== undefined ? { name: p.Name } : {}),
                    ...(p.Arn !== undefined ? { arn: p.Arn } : {}),
                    awsManaged: p.AwsManaged === true,
                    ...(documents.get(p.Id) !== undefined ? { document: documents.get(p.Id)! } : {}),
                  })),
                }
              : {}),
          })),
        }
      : {}),
    failedCalls,
  };
}

function parseDate(value: string | number | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // Old AWS CLI versions print epoch seconds.
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
export { parseDate };

export function buildInventory(snapshot: Snapshot): Inventory {
  const availability = computeAvailability(snapshot);
  const section = (key: SectionKey): SectionAvailability => availability.get(key) ?? { available: true };

  const infoById = new Map<string, InstanceInformationRaw>();
  for (const info of snapshot.ssm?.InstanceInformationList ?? []) infoById.set(info.InstanceId, info);

  const instances = new Map<string, Ec2Instance>();
  for (const reservation of snapshot.ec2?.Reservations ?? []) {
    for (const raw of reservation.Instances) {
      const tags = new Map<string, string>();
      for (const tag of raw.Tags ?? []) tags.set(tag.Key, tag.Value);
      const httpEndpointEnabled =
        (raw.MetadataOptions?.HttpEndpoint ?? 'enabled').toLowerCase() !== 'disabled';
      const publicIp =
        raw.PublicIpAddress ??
        raw.NetworkInterfaces?.find((eni) => eni.Association?.PublicIp)?.Association?.PublicIp;
      const sgIds = new Set<string>((raw.SecurityGroups ?? []).map((g) => g.GroupId));
      for (const eni of raw.NetworkInterfaces ?? []) for (const g of eni.Groups ?? []) sgIds.add(g.GroupId);
      instances.set(raw.InstanceId, {
        id: raw.InstanceId,
        state: raw.State.Name.toLowerCase(),
        raw,
        vpcId: raw.VpcId,
        subnetId: raw.SubnetId,
        availabilityZone: raw.Placement?.AvailabilityZone,
        privateIp: raw.PrivateIpAddress,
        publicIp,
        instanceProfileArn: raw.IamInstanceProfile?.Arn,
        securityGroupIds: [...sgIds],
        imdsV2Required: httpEndpointEnabled && raw.MetadataOptions?.HttpTokens?.toLowerCase() === 'required',
        metadataEndpointEnabled: httpEndpointEnabled,
        tags,
        info: infoById.get(raw.InstanceId),
      });
    }
  }

  const hybridNodes = new Map<string, HybridNode>();
  for (const info of infoById.values()) {
    const isHybrid = info.ResourceType === 'ManagedInstance' || info.InstanceId.startsWith('mi-');
    if (!isHybrid) continue;
    hybridNodes.set(info.InstanceId, {
      id: info.InstanceId,
      info,
      roleName: info.IamRole ? roleNameOf(info.IamRole) : undefined,
      activationId: info.ActivationId,
    });
  }

  const subnets = new Map<string, SubnetRaw>();
  const subnetCidrs = new Map<string, Ipv4Range>();
  for (const subnet of snapshot.ec2?.Subnets ?? []) {
    subnets.set(subnet.SubnetId, subnet);
    const range = subnet.CidrBlock ? parseCidr(subnet.CidrBlock) : undefined;
    if (range) subnetCidrs.set(subnet.SubnetId, range);
  }

  const vpcs = new Map<string, VpcView>();
  for (const raw of snapshot.ec2?.Vpcs ?? []) {
    const cidrTexts = new Set<string>(raw.CidrBlock ? [raw.CidrBlock] : []);
    for (const assoc of raw.CidrBlockAssociationSet ?? []) cidrTexts.add(assoc.CidrBlock);
    vpcs.set(raw.VpcId, {
      id: raw.VpcId,
      raw,
      cidrs: [...cidrTexts].map(parseCidr).filter((r): r is Ipv4Range => r !== undefined),
      dnsSupport: attribute(raw.EnableDnsSupport),
      dnsHostnames: attribute(raw.EnableDnsHostnames),
      endpoints: [],
      internetGatewayIds: new Set(),
    });
  }
  const endpointPolicies = new Map<string, PolicyDocument>();
  (snapshot.ec2?.VpcEndpoints ?? []).forEach((endpoint, i) => {
    vpcs.get(endpoint.VpcId)?.endpoints.push(endpoint);
    // DescribeVpcEndpoints returns the policy as a JSON string; URL-encoded text and objects are accepted too.
    if (endpoint.PolicyDocument !== undefined)
      endpointPolicies.set(
        endpoint.VpcEndpointId,
        parseDocumentAt(endpoint.PolicyDocument, `$.ec2.VpcEndpoints[${i}].PolicyDocument`),
      );
  });

  const internetGateways = new Map<string, InternetGatewayRaw>();
  for (const igw of snapshot.ec2?.InternetGateways ?? []) {
    internetGateways.set(igw.InternetGatewayId, igw);
    for (const attachment of igw.Attachments ?? []) {
      // DescribeInternetGateways reports an attached gateway as "available".
      const state = (attachment.State ?? 'available').toLowerCase();
      if (state === 'available' || state === 'attached')
        vpcs.get(attachment.VpcId)?.internetGatewayIds.add(igw.InternetGatewayId);
    }
  }
  const natGateways = new Map<string, NatGatewayRaw>();
  for (const nat of snapshot.ec2?.NatGateways ?? []) natGateways.set(nat.NatGatewayId, nat);

  const routeTableBySubnet = new Map<string, RouteTableRaw>();
  for (const table of snapshot.ec2?.RouteTables ?? []) {
    for (const assoc of table.Associations ?? []) {
      if (assoc.Main) {
        const vpc = vpcs.get(table.VpcId);
        if (vpc) vpc.mainRouteTable = table;
      } else if (assoc.SubnetId) routeTableBySubnet.set(assoc.SubnetId, table);
    }
  }
  const naclBySubnet = new Map<string, NetworkAclRaw>();
  for (const acl of snapshot.ec2?.NetworkAcls ?? []) {
    for (const assoc of acl.Associations ?? []) if (assoc.SubnetId) naclBySubnet.set(assoc.SubnetId, acl);
  }
  const securityGroups = new Map<string, SecurityGroupRaw>();
  for (const sg of snapshot.ec2?.SecurityGroups ?? []) securityGroups.set(sg.GroupId, sg);

  const { roles, profiles, managed } = buildRoles(snapshot);

  const serviceSettings = new Map<string, ServiceSettingRaw>();
  for (const setting of snapshot.ssm?.ServiceSettings ?? []) serviceSettings.set(setting.SettingId, setting);

  const settingsAvailability = section('ssm.ServiceSettings');
  let dhmc: DhmcState;
  if (!settingsAvailability.available) {
    dhmc = { state: 'unknown', availability: settingsAvailability };
  } else {
    const value = serviceSettings.get(DHMC_SETTING_ID)?.SettingValue?.trim() ?? '';
    const roleName = dhmcRoleName(value);
    dhmc = roleName
      ? { state: 'on', roleName, settingValue: value }
      : { state: 'off', settingValue: value || undefined };
  }

  return {
    accountId: snapshot.accountId,
    region: snapshot.region,
    partition: snapshot.partition,
    collectedAt: new Date(snapshot.collectedAt),
    calls: snapshot.calls,
    instances,
    hybridNodes,
    vpcs,
    subnets,
    subnetCidrs,
    securityGroups,
    internetGateways,
    natGateways,
    endpointPolicies,
    roles,
    instanceProfiles: profiles,
    managedPolicies: managed,
    serviceSettings,
    activations: snapshot.ssm?.ActivationList ?? [],
    dhmc,
    organizations: buildOrganizations(snapshot, section('organizations')),
    routeTableForSubnet: (subnetId) => {
      const explicit = routeTableBySubnet.get(subnetId);
      if (explicit) return explicit;
      const vpcId = subnets.get(subnetId)?.VpcId;
      return vpcId ? vpcs.get(vpcId)?.mainRouteTable : undefined;
    },
    networkAclForSubnet: (subnetId) => naclBySubnet.get(subnetId),
    section,
  };
}

/**
 * The role the DHMC setting names, or undefined when DHMC is off. A setting that was never turned on
 * reads "$None"; the value may carry a path ("service-role/Name").
 */
export function dhmcRoleName(settingValue: string | undefined): string | undefined {
  const value = settingValue?.trim() ?? '';
  return value === '' || value === '$None' || value.toLowerCase() === 'none' ? undefined : roleNameOf(value);
}

export function tierSetting(inventory: Inventory): string {
  return inventory.serviceSettings.get(TIER_SETTING_ID)?.SettingValue?.toLowerCase() || 'standard';
}

export function roleByReference(inventory: Inventory, reference: string): RoleView | undefined {
  return inventory.roles.get(roleNameOf(reference).toLowerCase());
}
