import { compareVersions } from '../shared/supported-os';
import { unavailableOutcome } from '../shared/engine';
import type { Ec2Instance, Inventory, RoleView } from '../shared/inventory';
import {
  agentTargetOf,
  assessCoreActions,
  assessSsmTrust,
  describeStatements,
  unreadablePoliciesOutcome,
  type AgentTarget,
  type CoreAssessment,
} from '../shared/permissions';
import type { TrustResult } from '../shared/policy/trust';
import { defineRule, type Outcome, type RuleContext } from '../shared/rule';
import {
  DHMC_DEFAULT_ROLE,
  DHMC_SEED_SETTING_NAME,
  DHMC_SETTING_ID,
  MIN_AGENT_FOR_DHMC,
  REGISTRATION_ACTION,
  policyArnsFor,
} from '../shared/ssm-requirements';

/** The managed policy ARN is the snapshot's partition's (arn:aws-cn:..., arn:aws-us-gov:...). */
const ATTACH_CORE = (role: string, partition: string) =>
  `aws iam attach-role-policy --role-name ${role} --policy-arn ${policyArnsFor(partition).core}`;

const ENABLE_METADATA = (instanceId: string) =>
  `aws ec2 modify-instance-metadata-options --instance-id ${instanceId} --http-endpoint enabled`;

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
 * The fix for a role that falls short: a Deny is removed or narrowed (attaching more grants does not beat
 * an explicit Deny), a missing grant is attached.
 */
function fixFor(
  core: CoreAssessment,
  role: string,
  partition: string,
  attach = ATTACH_CORE(role, partition),
  startsSentence = true,
): string {
  const denying = core.deciding
    .filter((d) => d.decision === 'explicitDeny' || d.decision === 'partial')
    .flatMap((d) => describeStatements(d.statements.filter((s) => s.effect === 'Deny')));
  if (denying.length === 0) return attach;
  const unblock = `remove or narrow the Deny statements of role ${role} that match ${[...core.denied, ...core.partial].join(', ')} on ${core.resources[REGISTRATION_ACTION] ?? '*'} (${[...new Set(denying)].join('; ')})`;
  const fix = core.missing.length > 0 ? `${unblock}, and ${attach}` : unblock;
  return startsSentence ? fix.charAt(0).toUpperCase() + fix.slice(1) : fix;
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
): Outcome {
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
      status: 'FAIL',
      reason: 'DHMC_ROLE_NOT_FOUND',
      message: `Default Host Management Configuration names role ${roleName}, which does not exist.`,
      evidence: base,
      remediation: `Create the role (or choose an existing one) in Fleet Manager > Account management > Default Host Management Configuration, e.g. aws ssm update-service-setting --setting-id ${DHMC_SETTING_ID} --setting-value service-role/${DHMC_DEFAULT_ROLE}`,
    };
  }
  // Conditions on aws:SourceAccount / aws:SourceArn are decided for this account and region.
  const trust = assessSsmTrust(role, target);
  if (trust.decision !== 'trusted') {
    return {
      status: trust.decision === 'conditional' ? 'WARN' : 'FAIL',
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
      remediation: `aws iam update-assume-role-policy --role-name ${role.name} --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}'`,
    };
  }
  const core = assessCoreActions(role, target);
  if (core.status === 'unknown') {
    return unreadablePoliciesOutcome(`DHMC role ${role.name}`, core, { ...base, ...coreEvidence(core) });
  }
  if (core.status !== 'complete') {
    const conditional = core.status === 'conditional';
    return {
      status: conditional ? 'WARN' : 'FAIL',
      reason: conditional ? 'CONDITIONAL_GRANT' : 'DHMC_ROLE_MISSING_ACTIONS',
      message: conditional
        ? `DHMC role ${role.name} grants ${core.conditional.join(', ')} only under a Condition.`
        : `DHMC role ${role.name} ${gapText(core)}.`,
      evidence: { ...base, ...coreEvidence(core) },
      remediation: fixFor(
        core,
        role.name,
        inventory.partition,
        `aws iam attach-role-policy --role-name ${role.name} --policy-arn ${arns.dhmcDefault}`,
      ),
    };
  }
  if (!instance.imdsV2Required) {
    return {
      status: 'FAIL',
      reason: 'DHMC_REQUIRES_IMDSV2',
      message: `DHMC is on but the instance ${instance.metadataEndpointEnabled ? 'allows IMDSv1 (HttpTokens is not "required")' : 'has its metadata endpoint disabled'}; DHMC supports only IMDSv2.`,
      evidence: { ...base, metadataOptions: instance.raw.MetadataOptions ?? null },
      remediation: `aws ec2 modify-instance-metadata-options --instance-id ${instance.id} --http-tokens required --http-endpoint enabled`,
    };
  }
  const version = instance.info?.AgentVersion;
  if (!version) {
    return {
      status: 'WARN',
      reason: 'DHMC_AGENT_VERSION_UNKNOWN',
      message: `DHMC role and IMDSv2 are fine, but the agent version is unknown (the instance never registered); DHMC needs SSM Agent ${MIN_AGENT_FOR_DHMC} or later.`,
      evidence: {
        ...base,
        imdsV2Required: true,
        agentVersion: null,
        minimumAgentVersion: MIN_AGENT_FOR_DHMC,
      },
      remediation: `Make sure the AMI ships SSM Agent ${MIN_AGENT_FOR_DHMC} or later (or attach an instance profile with ${arns.core}).`,
    };
  }
  if (compareVersions(version, MIN_AGENT_FOR_DHMC) < 0) {
    return {
      status: 'FAIL',
      reason: 'DHMC_AGENT_TOO_OLD',
      message: `DHMC needs SSM Agent ${MIN_AGENT_FOR_DHMC} or later; this instance runs ${version}.`,
      evidence: { ...base, agentVersion: version, minimumAgentVersion: MIN_AGENT_FOR_DHMC },
      remediation: `aws ssm send-command --document-name AWS-UpdateSSMAgent --instance-ids ${instance.id} (or update the agent in the AMI)`,
    };
  }
  return {
    status: 'PASS',
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
function metadataDisabled(instance: Ec2Instance, role: string, grant: string): Outcome {
  return {
    status: 'FAIL',
    reason: 'METADATA_ENDPOINT_DISABLED',
    message: `Instance profile role ${role} ${grant}, but the instance's metadata endpoint is disabled (HttpEndpoint = disabled): SSM Agent cannot get its identity or the role's credentials.`,
    evidence: {
      credentialSource: 'profile',
      role,
      metadataOptions: instance.raw.MetadataOptions ?? null,
    },
    remediation: ENABLE_METADATA(instance.id),
  };
}

function evaluateInstance(instance: Ec2Instance, ctx: RuleContext): Outcome {
  const { inventory } = ctx;
  const partition = inventory.partition;
  const arns = policyArnsFor(partition);
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
            status: 'WARN',
            severity: 'MEDIUM',
            reason: 'DEPRECATED_POLICY',
            message: `Role ${profileRole.name} grants the agent through the deprecated AmazonEC2RoleforSSM policy; replace it with AmazonSSMManagedInstanceCore.`,
            evidence: { ...evidence, deprecatedPolicy: arns.deprecatedEc2RoleForSsm },
            remediation: `${ATTACH_CORE(profileRole.name, partition)} && aws iam detach-role-policy --role-name ${profileRole.name} --policy-arn ${arns.deprecatedEc2RoleForSsm}`,
          };
        }
        return {
          status: 'PASS',
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
        return unreadablePoliciesOutcome(`role ${profileRole.name}`, profileCore, {
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
          status: 'WARN',
          reason: 'CONDITIONAL_GRANT',
          message: `Role ${profileRole.name} grants ${profileCore.conditional.join(', ')} only under a Condition; cannot prove the agent is allowed.`,
          evidence: { ...evidence, ...coreEvidence(profileCore) },
          remediation: `Remove the Condition from the granting statements or ${ATTACH_CORE(profileRole.name, partition)}`,
        };
      }
      const registers = profileCore.registration === 'allowed' || profileCore.registration === 'conditional';
      if (registers) {
        // Seed 002: "If you allow the ssm:UpdateInstanceInformation operation in your instance profiles,
        // the instance will not use the Default Host Management Configuration permissions."
        const dhmcOn = inventory.dhmc.state === 'on';
        return {
          status: 'FAIL',
          reason: dhmcOn ? 'DHMC_SHADOWED_BY_PROFILE' : 'PROFILE_MISSING_ACTIONS',
          message: dhmcOn
            ? `Role ${profileRole.name} allows ssm:UpdateInstanceInformation but ${gapText(profileCore)}: the agent uses this incomplete profile instead of DHMC.`
            : `Instance profile role ${profileRole.name} ${gapText(profileCore)}.`,
          evidence: { ...evidence, dhmc: inventory.dhmc.state, ...coreEvidence(profileCore) },
          remediation: dhmcOn
            ? `Either ${fixFor(profileCore, profileRole.name, partition, ATTACH_CORE(profileRole.name, partition), false)}, or remove ssm:UpdateInstanceInformation from the profile so the agent falls back to DHMC.`
            : fixFor(profileCore, profileRole.name, partition),
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
  const noProfile = !instance.instanceProfileArn;
  return {
    status: 'FAIL',
    reason: noProfile ? 'NO_INSTANCE_PROFILE_AND_DHMC_OFF' : 'PROFILE_MISSING_ACTIONS_AND_DHMC_OFF',
    message: noProfile
      ? 'No instance profile is attached and Default Host Management Configuration is off.'
      : `The instance profile cannot register the agent (${profileNote}) and Default Host Management Configuration is off.`,
    evidence: {
      credentialSource: 'none',
      instanceProfile: instance.instanceProfileArn ?? null,
      profileProblem: profileNote ?? null,
      dhmc: 'off',
      ...(profileCore ? coreEvidence(profileCore) : {}),
    },
    remediation: noProfile
      ? `Turn on DHMC (aws ssm update-service-setting --setting-id ${DHMC_SETTING_ID} --setting-value service-role/${DHMC_DEFAULT_ROLE}) or attach a profile: aws ec2 associate-iam-instance-profile --instance-id ${instance.id} --iam-instance-profile Name=SSMInstanceProfile`
      : profileRole && profileCore
        ? fixFor(profileCore, profileRole.name, partition)
        : `Give the instance profile a role with ${arns.core}: aws iam add-role-to-instance-profile --instance-profile-name <profile> --role-name SSMInstanceProfile`,
  };
}

/**
 * Account check: seed 002's example admin policy names the setting `default-instance-management-role`,
 * but the real setting id is `default-ec2-instance-management-role`; a policy copied from the seed
 * grants nothing on the real setting.
 */
function evaluateAccount(ctx: RuleContext): Outcome {
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
      status: 'PASS',
      reason: 'DHMC_SETTING_ID_OK',
      message: `No IAM policy references the wrong DHMC setting name ${DHMC_SEED_SETTING_NAME} (from the example policy in the AWS documentation).`,
      evidence: { dhmc: ctx.inventory.dhmc.state },
    };
  }
  return {
    status: 'WARN',
    severity: 'LOW',
    reason: 'DHMC_POLICY_USES_WRONG_SETTING_ID',
    message: `${hits.length} polic${hits.length === 1 ? 'y references' : 'ies reference'} servicesetting/ssm/managed-instance/${DHMC_SEED_SETTING_NAME}; the real setting is ${DHMC_SETTING_ID}.`,
    evidence: { policies: hits, correctSettingId: DHMC_SETTING_ID },
    remediation: `Change the Resource to arn:${ctx.inventory.partition}:ssm:${ctx.inventory.region}:${ctx.inventory.accountId}:servicesetting${DHMC_SETTING_ID} in these policies.`,
  };
}

export default defineRule({
  meta: {
    id: 'instance-permissions',
    title: 'EC2 instance permissions (instance profile or Default Host Management Configuration)',
    description:
      "The agent takes credentials from the instance profile first and falls back to DHMC only when the profile does not allow ssm:UpdateInstanceInformation on the instance's ARN; one of the two must grant the core agent actions, and the instance metadata endpoint must be enabled (the agent's identity and credentials come from it).",
    severity: 'HIGH',
    appliesTo: ['ec2', 'account'],
    needs: { ec2: ['ec2.Reservations', 'iam'], account: ['iam'] },
    remediation: `Attach AmazonSSMManagedInstanceCore to the instance profile role (${ATTACH_CORE('<role>', '<partition>')}), or turn on Default Host Management Configuration.`,
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
    return evaluateInstance(subject.instance, ctx);
  },
});
