import { compareVersions } from '../shared/knowledge/supported-os';

import type { Ec2Instance, Inventory, RoleView } from '../shared/snapshot/inventory';
import {
  agentTargetOf,
  assessCoreActions,
  assessSsmTrust,
  credentialSourceOf,
  describeStatements,
  unreadablePolicies,
  type AgentTarget,
  type CoreAssessment,
} from '../shared/agent/permissions';
import type { TrustResult } from '../shared/policy/trust';
import { SCP_REASONS, assessScp, scpNote, scpOverride } from '../shared/agent/scp';
import {
  defineRule,
  NO_ACTION,
  unavailableOutcome,
  type Outcome,
  type ReasonTable,
  type RuleContext,
} from '../shared/engine/rule';
import {
  DHMC_DEFAULT_ROLE,
  DHMC_SEED_SETTING_NAME,
  DHMC_SETTING_ID,
  MIN_AGENT_FOR_DHMC,
  REGISTRATION_ACTION,
  policyArnsFor,
} from '../shared/knowledge/ssm-requirements';

/** `{policyArn}` is a managed policy ARN of the snapshot's partition (arn:aws-cn:..., arn:aws-us-gov:...). */
const ATTACH = 'aws iam attach-role-policy --role-name {roleName} --policy-arn {policyArn}';
/** A Deny beats any grant: it is removed or narrowed, and a missing grant attached. */
const DENY_STATEMENTS =
  'the Deny statements of role {roleName} that match {blockedActions} on {resource} ({denyStatements})';
const TURN_ON_DHMC =
  `aws ssm update-service-setting --setting-id ${DHMC_SETTING_ID} --setting-value service-role/${DHMC_DEFAULT_ROLE}` as const;
const SSM_TRUST = `'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}'`;

/** The fix for a role that falls short, by what the role lacks (see `grantFix`). */
/** The role's own policies allow the actions; its permissions boundary does not. */
const WIDEN_BOUNDARY =
  "allow {cappedActions} in {boundaryArn}, the permissions boundary of role {roleName} (the role's own policies already allow them, so attaching a policy cannot help)";
const GRANT_FIX = {
  attach: ATTACH,
  unblock: `Remove or narrow ${DENY_STATEMENTS}`,
  unblockAndAttach: `Remove or narrow ${DENY_STATEMENTS}, and ${ATTACH}`,
  widenBoundary: `Ask whoever owns the boundary to ${WIDEN_BOUNDARY}.`,
} as const;

const REASONS = {
  PROFILE_GRANTS_CORE: { status: 'PASS', remediation: NO_ACTION },
  DEPRECATED_POLICY: {
    status: 'WARN',
    severity: 'MEDIUM',
    remediation: `${ATTACH} && aws iam detach-role-policy --role-name {roleName} --policy-arn {deprecatedPolicyArn}`,
  },
  METADATA_ENDPOINT_DISABLED: {
    status: 'FAIL',
    remediation:
      'aws ec2 modify-instance-metadata-options --instance-id {instanceId} --http-endpoint enabled',
  },
  CONDITIONAL_GRANT: {
    status: 'WARN',
    remediation: `Remove the Condition from the granting statements or ${ATTACH}`,
  },
  PROFILE_MISSING_ACTIONS: { status: 'FAIL', remediation: GRANT_FIX },
  DHMC_SHADOWED_BY_PROFILE: {
    status: 'FAIL',
    remediation: {
      attach: `Either ${ATTACH}, or remove ssm:UpdateInstanceInformation from the profile so the agent falls back to DHMC.`,
      unblock: `Either remove or narrow ${DENY_STATEMENTS}, or remove ssm:UpdateInstanceInformation from the profile so the agent falls back to DHMC.`,
      unblockAndAttach: `Either remove or narrow ${DENY_STATEMENTS}, and ${ATTACH}, or remove ssm:UpdateInstanceInformation from the profile so the agent falls back to DHMC.`,
      widenBoundary: `Either ${WIDEN_BOUNDARY}, or remove ssm:UpdateInstanceInformation from the profile so the agent falls back to DHMC.`,
    },
  },
  NO_INSTANCE_PROFILE_AND_DHMC_OFF: {
    status: 'FAIL',
    remediation: `Turn on DHMC (${TURN_ON_DHMC}) or attach a profile: aws ec2 associate-iam-instance-profile --instance-id {instanceId} --iam-instance-profile Name=SSMInstanceProfile`,
  },
  PROFILE_MISSING_ACTIONS_AND_DHMC_OFF: {
    status: 'FAIL',
    remediation: {
      ...GRANT_FIX,
      profileWithoutRole:
        'Give the instance profile a role with {policyArn}: aws iam add-role-to-instance-profile --instance-profile-name {profileName} --role-name SSMInstanceProfile',
    },
  },
  DHMC_PATH_OK: { status: 'PASS', remediation: NO_ACTION },
  DHMC_ROLE_NOT_FOUND: {
    status: 'FAIL',
    remediation: `Create the role (or choose an existing one) in Fleet Manager > Account management > Default Host Management Configuration, e.g. ${TURN_ON_DHMC}`,
  },
  DHMC_ROLE_TRUST_MISSING: {
    status: 'FAIL',
    remediation: `aws iam update-assume-role-policy --role-name {roleName} --policy-document ${SSM_TRUST}`,
  },
  DHMC_ROLE_TRUST_CONDITIONAL: {
    status: 'WARN',
    remediation: `aws iam update-assume-role-policy --role-name {roleName} --policy-document ${SSM_TRUST}`,
  },
  DHMC_ROLE_MISSING_ACTIONS: { status: 'FAIL', remediation: GRANT_FIX },
  DHMC_REQUIRES_IMDSV2: {
    status: 'FAIL',
    remediation:
      'aws ec2 modify-instance-metadata-options --instance-id {instanceId} --http-tokens required --http-endpoint enabled',
  },
  DHMC_AGENT_VERSION_UNKNOWN: {
    status: 'WARN',
    remediation: `Make sure the AMI ships SSM Agent ${MIN_AGENT_FOR_DHMC} or later (or attach an instance profile with {corePolicyArn}).`,
  },
  DHMC_AGENT_TOO_OLD: {
    status: 'FAIL',
    remediation:
      'aws ssm send-command --document-name AWS-UpdateSSMAgent --instance-ids {instanceId} (or update the agent in the AMI)',
  },
  POLICY_DOCUMENT_UNAVAILABLE: {
    status: 'ERROR',
    remediation:
      'Collect IAM with iam:GetAccountAuthorizationDetails (or iam:GetPolicyVersion for these policies).',
  },
  DHMC_SETTING_ID_OK: { status: 'PASS', remediation: NO_ACTION },
  DHMC_POLICY_USES_WRONG_SETTING_ID: {
    status: 'WARN',
    severity: 'LOW',
    remediation: `Change the Resource to arn:{partition}:ssm:{region}:{accountId}:servicesetting${DHMC_SETTING_ID} in these policies.`,
  },
  ...SCP_REASONS,
} as const satisfies ReasonTable;

type PermissionsOutcome = Outcome<typeof REASONS>;

function coreEvidence(core: CoreAssessment) {
  return {
    missingActions: core.missing,
    deniedActions: core.denied,
    conditionalActions: core.conditional,
    ...(core.partial.length ? { partiallyGrantedActions: core.partial } : {}),
    // The question AWS asks: ssm:UpdateInstanceInformation on the instance's own ARN, the message
    // services on "*" (Service Authorization Reference).
    evaluatedOn: core.resources[REGISTRATION_ACTION] ?? '*',
    decidingStatements: core.deciding.map((d) => ({
      action: d.action,
      decision: d.decision,
      statements: describeStatements(d.statements),
      // The identity policies allow it; the role's permissions boundary does not.
      ...(d.missingIn === 'boundary' ? { notAllowedBy: 'permissions boundary' } : {}),
    })),
    ...(core.unresolved.length ? { unreadablePolicies: core.unresolved } : {}),
  };
}

function gapText(core: CoreAssessment): string {
  const parts: string[] = [];
  if (core.denied.length) parts.push(`explicitly denies ${core.denied.join(', ')}`);
  if (core.missing.length) parts.push(`does not allow ${core.missing.join(', ')}`);
  if (core.partial.length) parts.push(`allows ${core.partial.join(', ')} only on some resources`);
  return parts.join(' and ');
}

/**
 * Which fix a role that falls short needs (GRANT_FIX): a Deny is removed or narrowed (attaching more
 * grants does not beat an explicit Deny), a missing grant is attached.
 */
function grantFix(core: CoreAssessment, role: RoleView, policyArn: string) {
  const roleName = role.name;
  const denying = core.deciding
    .filter((d) => d.decision === 'explicitDeny' || d.decision === 'partial')
    .flatMap((d) => describeStatements(d.statements.filter((st) => st.effect === 'Deny')));
  const capped = core.deciding.filter((d) => d.missingIn === 'boundary').map((d) => d.action);
  if (
    denying.length === 0 &&
    capped.length > 0 &&
    capped.length === core.missing.length &&
    role.permissionsBoundary
  )
    return {
      variant: 'widenBoundary',
      params: { roleName, cappedActions: capped.join(', '), boundaryArn: role.permissionsBoundary.source },
    } as const;
  const params = {
    roleName,
    policyArn,
    blockedActions: [...core.denied, ...core.partial].join(', '),
    resource: core.resources[REGISTRATION_ACTION] ?? '*',
    denyStatements: [...new Set(denying)].join('; '),
  };
  if (denying.length === 0) return { variant: 'attach', params } as const;
  return { variant: core.missing.length > 0 ? 'unblockAndAttach' : 'unblock', params } as const;
}

/** An unreadable policy (shared wording), as this rule's declared reason. */
function unreadable(
  label: string,
  core: CoreAssessment,
  evidence: Record<string, unknown>,
): PermissionsOutcome {
  const { message, evidence: withPolicies } = unreadablePolicies(label, core, evidence);
  return { reason: 'POLICY_DOCUMENT_UNAVAILABLE', message, evidence: withPolicies };
}

/** Why a trust policy does not let ssm.amazonaws.com in: no statement, or Conditions this account fails. */
function trustGap(trust: TrustResult): string {
  const unmet = trust.unmetConditions ?? [];
  if (trust.decision === 'notTrusted' && unmet.length > 0 && trust.evidence.length === 0) {
    const keys = [...new Set(unmet.flatMap((u) => u.keys))].join(', ');
    return `trusts ssm.amazonaws.com only under a Condition on ${keys} that requests from this account and region do not meet`;
  }
  return 'does not trust ssm.amazonaws.com for sts:AssumeRole';
}

/** The DHMC path (seed 002 "Recommended configuration"): setting → role → trust → policy → IMDSv2 → agent. */
function evaluateDhmc(
  instance: Ec2Instance,
  inventory: Inventory,
  target: AgentTarget,
  roleName: string,
  profileNote?: string,
): PermissionsOutcome {
  const arns = policyArnsFor(inventory.partition);
  const base = {
    credentialSource: 'dhmc',
    dhmcSetting: DHMC_SETTING_ID,
    dhmcRole: roleName,
    ...(profileNote ? { instanceProfile: profileNote } : {}),
  };
  const role: RoleView | undefined = inventory.roles.get(roleName.toLowerCase());
  if (!role) {
    return {
      reason: 'DHMC_ROLE_NOT_FOUND',
      message: `Default Host Management Configuration names role ${roleName}, which does not exist.`,
      evidence: base,
    };
  }
  // Conditions on aws:SourceAccount / aws:SourceArn are decided for this account and region.
  const trust = assessSsmTrust(role, target);
  if (trust.decision !== 'trusted') {
    return {
      reason: trust.decision === 'conditional' ? 'DHMC_ROLE_TRUST_CONDITIONAL' : 'DHMC_ROLE_TRUST_MISSING',
      message:
        trust.decision === 'conditional'
          ? `DHMC role ${role.name} trusts ssm.amazonaws.com only under a Condition the audit cannot decide; cannot prove the agent can assume it.`
          : `DHMC role ${role.name} ${trustGap(trust)}.`,
      evidence: {
        ...base,
        trust: trust.evidence,
        ...(trust.unmetConditions ? { unmetTrustConditions: trust.unmetConditions } : {}),
      },
      params: { roleName: role.name },
    };
  }
  const core = assessCoreActions(role, target);
  if (core.status === 'unknown') {
    return unreadable(`DHMC role ${role.name}`, core, { ...base, ...coreEvidence(core) });
  }
  if (core.status === 'conditional') {
    return {
      reason: 'CONDITIONAL_GRANT',
      message: `DHMC role ${role.name} grants ${core.conditional.join(', ')} only under a Condition.`,
      evidence: { ...base, ...coreEvidence(core) },
      params: { roleName: role.name, policyArn: arns.dhmcDefault },
    };
  }
  if (core.status !== 'complete') {
    return {
      reason: 'DHMC_ROLE_MISSING_ACTIONS',
      message: `DHMC role ${role.name} ${gapText(core)}.`,
      evidence: { ...base, ...coreEvidence(core) },
      ...grantFix(core, role, arns.dhmcDefault),
    };
  }
  if (!instance.imdsV2Required) {
    return {
      reason: 'DHMC_REQUIRES_IMDSV2',
      message: `DHMC is on but the instance ${instance.metadataEndpointEnabled ? 'allows IMDSv1 (HttpTokens is not "required")' : 'has its metadata endpoint disabled'}; DHMC supports only IMDSv2.`,
      // The agent version is checked next: a plan that requires IMDSv2 updates an old agent with it.
      evidence: {
        ...base,
        metadataOptions: instance.raw.MetadataOptions ?? null,
        agentVersion: instance.info?.AgentVersion ?? null,
      },
      params: { instanceId: instance.id },
    };
  }
  const version = instance.info?.AgentVersion;
  if (!version) {
    return {
      reason: 'DHMC_AGENT_VERSION_UNKNOWN',
      message: `DHMC role and IMDSv2 are fine, but the agent version is unknown (the instance never registered); DHMC needs SSM Agent ${MIN_AGENT_FOR_DHMC} or later.`,
      evidence: {
        ...base,
        imdsV2Required: true,
        agentVersion: null,
        minimumAgentVersion: MIN_AGENT_FOR_DHMC,
      },
      params: { corePolicyArn: arns.core },
    };
  }
  if (compareVersions(version, MIN_AGENT_FOR_DHMC) < 0) {
    return {
      reason: 'DHMC_AGENT_TOO_OLD',
      message: `DHMC needs SSM Agent ${MIN_AGENT_FOR_DHMC} or later; this instance runs ${version}.`,
      evidence: { ...base, agentVersion: version, minimumAgentVersion: MIN_AGENT_FOR_DHMC },
      params: { instanceId: instance.id },
    };
  }
  return {
    reason: 'DHMC_PATH_OK',
    message: `Managed through Default Host Management Configuration (role ${role.name}, IMDSv2, agent ${version}).`,
    evidence: { ...base, imdsV2Required: true, agentVersion: version },
  };
}

/**
 * "Instance metadata": the agent reads its identity and the profile's credentials from IMDS
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html); with
 * the endpoint disabled a profile that grants everything still gives the agent nothing.
 */
function metadataDisabled(instance: Ec2Instance, role: string, grant: string): PermissionsOutcome {
  return {
    reason: 'METADATA_ENDPOINT_DISABLED',
    message: `Instance profile role ${role} ${grant}, but the instance's metadata endpoint is disabled (HttpEndpoint = disabled): SSM Agent cannot get its identity or the role's credentials.`,
    evidence: {
      credentialSource: 'profile',
      role,
      metadataOptions: instance.raw.MetadataOptions ?? null,
    },
    params: { instanceId: instance.id },
  };
}

function evaluateInstance(instance: Ec2Instance, ctx: RuleContext): PermissionsOutcome {
  const { inventory } = ctx;
  const arns = policyArnsFor(inventory.partition);
  // Ask what AWS asks: ssm:UpdateInstanceInformation names this instance's ARN.
  const target = agentTargetOf(inventory, { kind: 'ec2', instanceId: instance.id });
  let profileNote: string | undefined;
  let profileCore: CoreAssessment | undefined;
  let profileRole: RoleView | undefined;

  if (instance.instanceProfileArn) {
    const profile = inventory.instanceProfiles.get(instance.instanceProfileArn);
    profileRole = profile ? inventory.roles.get(profile.roleName.toLowerCase()) : undefined;
    if (!profileRole) {
      profileNote = `${instance.instanceProfileArn} has no role (or does not exist)`;
    } else {
      profileCore = assessCoreActions(profileRole, target);
      const evidence = {
        credentialSource: 'profile',
        instanceProfile: instance.instanceProfileArn,
        role: profileRole.name,
      };
      if (profileCore.status === 'complete') {
        if (!instance.metadataEndpointEnabled)
          return metadataDisabled(instance, profileRole.name, 'grants every core SSM Agent action');
        if (profileCore.usesDeprecatedPolicy) {
          return {
            reason: 'DEPRECATED_POLICY',
            message: `Role ${profileRole.name} grants the agent through the deprecated AmazonEC2RoleforSSM policy; replace it with AmazonSSMManagedInstanceCore.`,
            evidence: { ...evidence, deprecatedPolicy: arns.deprecatedEc2RoleForSsm },
            params: {
              roleName: profileRole.name,
              policyArn: arns.core,
              deprecatedPolicyArn: arns.deprecatedEc2RoleForSsm,
            },
          };
        }
        return {
          reason: 'PROFILE_GRANTS_CORE',
          message: `Instance profile role ${profileRole.name} grants every core SSM Agent action.`,
          evidence: {
            ...evidence,
            evaluatedOn: profileCore.resources[REGISTRATION_ACTION] ?? '*',
            builtInPolicyCopies: profileRole.builtInPolicyArns,
          },
        };
      }
      if (profileCore.status === 'unknown') {
        return unreadable(`role ${profileRole.name}`, profileCore, {
          ...evidence,
          ...coreEvidence(profileCore),
        });
      }
      if (profileCore.status === 'conditional') {
        if (!instance.metadataEndpointEnabled)
          return metadataDisabled(
            instance,
            profileRole.name,
            'grants the core SSM Agent actions under a Condition',
          );
        return {
          reason: 'CONDITIONAL_GRANT',
          message: `Role ${profileRole.name} grants ${profileCore.conditional.join(', ')} only under a Condition; cannot prove the agent is allowed.`,
          evidence: { ...evidence, ...coreEvidence(profileCore) },
          params: { roleName: profileRole.name, policyArn: arns.core },
        };
      }
      const registers = profileCore.registration === 'allowed' || profileCore.registration === 'conditional';
      if (registers) {
        // Seed 002: "If you allow the ssm:UpdateInstanceInformation operation in your instance profiles,
        // the instance will not use the Default Host Management Configuration permissions."
        const dhmcOn = inventory.dhmc.state === 'on';
        return {
          reason: dhmcOn ? 'DHMC_SHADOWED_BY_PROFILE' : 'PROFILE_MISSING_ACTIONS',
          message: dhmcOn
            ? `Role ${profileRole.name} allows ssm:UpdateInstanceInformation but ${gapText(profileCore)}: the agent uses this incomplete profile instead of DHMC.`
            : `Instance profile role ${profileRole.name} ${gapText(profileCore)}.`,
          evidence: { ...evidence, dhmc: inventory.dhmc.state, ...coreEvidence(profileCore) },
          ...grantFix(profileCore, profileRole, arns.core),
        };
      }
      profileNote = `role ${profileRole.name} ${gapText(profileCore)}`;
    }
  }

  // The profile does not let the agent register: DHMC is the only way left.
  const dhmc = inventory.dhmc;
  if (dhmc.state === 'unknown') {
    const outcome = unavailableOutcome(
      'ssm.ServiceSettings',
      dhmc.availability,
      'the Default Host Management Configuration fallback',
    );
    return { ...outcome, evidence: { ...outcome.evidence, instanceProfile: profileNote ?? 'none' } };
  }
  if (dhmc.state === 'on') return evaluateDhmc(instance, inventory, target, dhmc.roleName, profileNote);
  const evidence = {
    credentialSource: 'none',
    instanceProfile: instance.instanceProfileArn ?? null,
    profileProblem: profileNote ?? null,
    dhmc: 'off',
    ...(profileCore ? coreEvidence(profileCore) : {}),
  };
  // The profile cannot register the agent, so with DHMC on the agent would use DHMC's default role:
  // what that path would still lack (the role, IMDSv2, the agent) is recorded for a fix plan.
  const ifOn = evaluateDhmc(instance, inventory, target, DHMC_DEFAULT_ROLE);
  const next = ifOn.evidence as Record<string, unknown>;
  const ifDhmcOn = {
    reason: ifOn.reason,
    role: DHMC_DEFAULT_ROLE,
    // The instance's own DHMC requirements, whatever the role check found first.
    imdsV2Required: instance.imdsV2Required,
    agentVersion: instance.info?.AgentVersion ?? null,
    ...(Array.isArray(next.missingActions) ? { missingActions: next.missingActions } : {}),
    ...(Array.isArray(next.deniedActions) ? { deniedActions: next.deniedActions } : {}),
  };
  if (!instance.instanceProfileArn) {
    return {
      reason: 'NO_INSTANCE_PROFILE_AND_DHMC_OFF',
      message: 'No instance profile is attached and Default Host Management Configuration is off.',
      evidence: { ...evidence, ifDhmcOn },
      params: { instanceId: instance.id },
    };
  }
  return {
    reason: 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF',
    message: `The instance profile cannot register the agent (${profileNote}) and Default Host Management Configuration is off.`,
    evidence: { ...evidence, ifDhmcOn },
    ...(profileRole && profileCore
      ? grantFix(profileCore, profileRole, arns.core)
      : ({
          variant: 'profileWithoutRole',
          // arn:<partition>:iam::<account>:instance-profile/<path>/<name>
          params: { policyArn: arns.core, profileName: instance.instanceProfileArn.split('/').pop()! },
        } as const)),
  };
}

/**
 * Service control policies (DESIGN §7) restrict the role the agent ends up with like one more policy
 * layer: they only take away, so they matter only where IAM grants (PASS or WARN); an IAM FAIL or ERROR
 * stands as it is.
 */
function withScpLayer(
  instance: Ec2Instance,
  ctx: RuleContext,
  outcome: PermissionsOutcome,
): PermissionsOutcome {
  const status = Object.hasOwn(REASONS, outcome.reason)
    ? REASONS[outcome.reason as keyof typeof REASONS].status
    : 'ERROR';
  if (status !== 'PASS' && status !== 'WARN') return outcome;
  const source = credentialSourceOf(ctx.inventory, instance);
  const role = source.source === 'profile' || source.source === 'dhmc' ? source.role : undefined;
  if (!role) return outcome;
  const target = agentTargetOf(ctx.inventory, { kind: 'ec2', instanceId: instance.id });
  const scp = assessScp(ctx.inventory, role, target);
  const override = scpOverride(scp, role.name);
  // A conditional SCP does not outweigh a WARN IAM already gives; it keeps a PASS from passing.
  if (override && !(override.reason === 'SCP_CONDITIONAL' && status === 'WARN')) {
    return {
      ...override,
      evidence: {
        ...override.evidence,
        credentialSource: source.source,
        iamOutcome: outcome.reason,
      },
    };
  }
  return {
    ...outcome,
    evidence: { ...outcome.evidence, scp: override ? override.evidence : scpNote(scp) },
  };
}

/**
 * Account check: seed 002's example admin policy names the setting `default-instance-management-role`,
 * but the real setting id is `default-ec2-instance-management-role`; a policy copied from the seed
 * grants nothing on the real setting.
 */
function evaluateAccount(ctx: RuleContext): PermissionsOutcome {
  const hits: { role?: string; policy: string }[] = [];
  const wrong = `servicesetting/ssm/managed-instance/${DHMC_SEED_SETTING_NAME}`;
  const seen = new Set<string>();
  for (const role of ctx.inventory.roles.values()) {
    for (const policy of role.identityPolicies) {
      if (JSON.stringify(policy.document).includes(wrong)) {
        hits.push({ role: role.name, policy: policy.source });
        seen.add(policy.source);
      }
    }
  }
  // Customer managed policies attached to users or groups, or to nothing yet, are read too.
  for (const [arn, document] of ctx.inventory.managedPolicies) {
    if (!seen.has(arn) && JSON.stringify(document).includes(wrong)) hits.push({ policy: arn });
  }
  if (hits.length === 0) {
    return {
      reason: 'DHMC_SETTING_ID_OK',
      message: `No IAM policy references the wrong DHMC setting name ${DHMC_SEED_SETTING_NAME} (from the example policy in the AWS documentation).`,
      evidence: { dhmc: ctx.inventory.dhmc.state },
    };
  }
  return {
    reason: 'DHMC_POLICY_USES_WRONG_SETTING_ID',
    message: `${hits.length} polic${hits.length === 1 ? 'y references' : 'ies reference'} servicesetting/ssm/managed-instance/${DHMC_SEED_SETTING_NAME}; the real setting is ${DHMC_SETTING_ID}.`,
    evidence: { policies: hits, correctSettingId: DHMC_SETTING_ID },
    params: {
      partition: ctx.inventory.partition,
      region: ctx.inventory.region,
      accountId: ctx.inventory.accountId,
    },
  };
}

export default defineRule({
  meta: {
    id: 'instance-permissions',
    title: 'EC2 instance permissions (instance profile or Default Host Management Configuration)',
    description:
      "The agent takes credentials from the instance profile first and falls back to DHMC only when the profile does not allow ssm:UpdateInstanceInformation on the instance's ARN; one of the two must grant the core agent actions, and the instance metadata endpoint must be enabled (the agent's identity and credentials come from it). With the snapshot's organizations section, the service control policies of the chain root → OU(s) → account are one more layer for the role in use (an explicit Deny at any level, or a level without an Allow, denies).",
    severity: 'HIGH',
    appliesTo: ['ec2', 'account'],
    needs: { ec2: ['ec2.Reservations', 'iam'], account: ['iam'] },
    reasons: REASONS,
    docsUrl: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html',
    references: [
      {
        seed: '002_37ca0a0bec735409.txt',
        section: 'Step 1: Configure instance permissions for Systems Manager',
        quote:
          'The SSM Agent attempts to use instance profile permissions before using the Default Host Management Configuration permissions.',
      },
      {
        seed: '000_dfb4493051e05ad4.txt',
        section: 'Systems Manager prerequisites, step 4',
        quote: 'For Amazon EC2 instances, create an IAM instance profile and attach it to your machines.',
      },
    ],
  },
  evaluate(subject, ctx) {
    if (subject.kind === 'account') return evaluateAccount(ctx);
    if (subject.kind !== 'ec2') throw new Error(`instance-permissions does not apply to ${subject.kind}`);
    return withScpLayer(subject.instance, ctx, evaluateInstance(subject.instance, ctx));
  },
});
