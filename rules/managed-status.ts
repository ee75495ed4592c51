import type { Ec2Instance, HybridNode } from '../shared/snapshot/inventory';
import { parseDate } from '../shared/snapshot/inventory';
import type { RuleId } from '../shared/model';
import {
  defineRule,
  NO_ACTION,
  unavailableOutcome,
  type Outcome,
  type ReasonTable,
  type RuleContext,
} from '../shared/engine/rule';

const EC2_PREREQUISITES: readonly RuleId[] = ['instance-permissions', 'network-path', 's3-bucket-access'];
const HYBRID_PREREQUISITES: readonly RuleId[] = ['hybrid-service-role'];

/** What the API cannot show (DESIGN §3 "Not checkable through the API"): said, not guessed. */
const NOT_CHECKABLE = [
  'SSM Agent installed and running on the host',
  'TLS root certificates on the host',
  'on-host proxy settings',
];

/** `{causeRemediation}`: the remediation of the first failing prerequisite rule (its finding's own fix). */
const REASONS = {
  MANAGED_ONLINE: { status: 'PASS', remediation: NO_ACTION },
  CONNECTION_LOST: {
    status: 'FAIL',
    remediation: {
      cause: '{causeRemediation}',
      noCause:
        'Check that the machine is running and SSM Agent is started (systemctl status amazon-ssm-agent / Get-Service AmazonSSMAgent), then its network path to SSM.',
    },
  },
  INACTIVE: {
    status: 'WARN',
    remediation: {
      // deregister-managed-instance takes only hybrid (mi-) nodes; an EC2 instance is restarted or its agent.
      ec2: 'Start SSM Agent on the instance (or the instance: aws ec2 start-instances --instance-ids {resourceId}) and check its network path to SSM.',
      hybrid:
        'Start the machine/agent, or deregister it if it is gone: aws ssm deregister-managed-instance --instance-id {resourceId}',
    },
  },
  AGENT_OUTDATED: {
    status: 'WARN',
    severity: 'LOW',
    remediation:
      'aws ssm send-command --document-name AWS-UpdateSSMAgent --targets Key=InstanceIds,Values={resourceId} (or enable agent auto-update in Fleet Manager)',
  },
  EXEMPT_BY_TAG: {
    status: 'NOT_APPLICABLE',
    remediation: 'None while the exemption tag is set; remove the tag to have the instance audited.',
  },
  INSTANCE_STOPPED: {
    status: 'NOT_APPLICABLE',
    remediation: 'None while the instance is stopped; its managed status is evaluated when it runs.',
  },
  REGISTRATION_PENDING: {
    status: 'NOT_APPLICABLE',
    remediation: {
      cause: '{causeRemediation}',
      noCause:
        'No action needed yet. If the instance has not registered by {registrationDueAt}, check that SSM Agent is installed and running.',
    },
  },
  NOT_YET_REGISTERED: { status: 'WARN', remediation: 'Re-run the audit in a few minutes.' },
  UNMANAGED: { status: 'FAIL', remediation: '{causeRemediation}' },
  UNMANAGED_CAUSE_UNKNOWN: {
    status: 'FAIL',
    remediation: 'Give the auditor the missing read permissions to find the cause, then re-run.',
  },
  UNMANAGED_AGENT_NOT_RUNNING: {
    status: 'FAIL',
    remediation:
      'Install/start SSM Agent (Linux: sudo systemctl enable --now amazon-ssm-agent; Windows: Start-Service AmazonSSMAgent), check TLS certificates and proxy settings, or run the AWSSupport-TroubleshootManagedInstance runbook.',
  },
} as const satisfies ReasonTable;

type ManagedOutcome = Outcome<typeof REASONS>;

/** The fix of a finding that names its likely cause: the cause's own remediation. */
function causeFix<const NoCause extends { variant: 'noCause' }>(first: Cause | undefined, noCause: NoCause) {
  return first ? ({ variant: 'cause', params: { causeRemediation: first.remediation } } as const) : noCause;
}

interface Cause {
  ruleId: RuleId;
  status: string;
  reason: string;
  message: string;
  remediation: string;
}

/** The failures (and doubts) of the prerequisite rules for this resource, most certain first. */
function causesOf(
  ctx: RuleContext,
  resourceId: string,
  rules: readonly RuleId[],
): { failures: Cause[]; doubts: Cause[] } {
  const failures: Cause[] = [];
  const doubts: Cause[] = [];
  for (const ruleId of rules) {
    for (const outcome of ctx.outcomesOf(ruleId, resourceId)) {
      const cause = {
        ruleId,
        status: outcome.status,
        reason: outcome.reason,
        message: outcome.message,
        remediation: outcome.remediation,
      };
      if (outcome.status === 'FAIL') failures.push(cause);
      else if (outcome.status === 'ERROR' || outcome.status === 'WARN') doubts.push(cause);
    }
  }
  return { failures, doubts };
}

function registrationOutcome(
  info: NonNullable<Ec2Instance['info']>,
  ctx: RuleContext,
  resourceId: string,
  rules: readonly RuleId[],
): ManagedOutcome {
  const online = info.PingStatus !== 'ConnectionLost' && info.PingStatus !== 'Inactive';
  // An Online agent pings every few minutes: its last ping time is news only once the pings stop.
  // Leaving it out keeps an unchanged finding unchanged, so the findings table is not rewritten each run.
  const evidence = {
    pingStatus: info.PingStatus ?? null,
    ...(online ? {} : { lastPing: parseDate(info.LastPingDateTime)?.toISOString() ?? null }),
    agentVersion: info.AgentVersion ?? null,
    isLatestVersion: info.IsLatestVersion ?? null,
  };
  if (info.PingStatus === 'ConnectionLost') {
    const { failures, doubts } = causesOf(ctx, resourceId, rules);
    const first = failures[0];
    return {
      reason: 'CONNECTION_LOST',
      message: `Registered but ConnectionLost since ${parseDate(info.LastPingDateTime)?.toISOString() ?? 'an unknown time'}${first ? `; likely cause: ${first.message.replace(/\.$/, '')}` : ''}.`,
      evidence: { ...evidence, rootCauses: failures, possibleCauses: doubts, notCheckable: NOT_CHECKABLE },
      ...causeFix(first, { variant: 'noCause' }),
    };
  }
  if (info.PingStatus === 'Inactive') {
    return {
      reason: 'INACTIVE',
      message: 'Registered but Inactive: the node has not reported for a long time.',
      evidence,
      variant: resourceId.startsWith('mi-') ? ('hybrid' as const) : ('ec2' as const),
      params: { resourceId },
    };
  }
  if (info.IsLatestVersion === false) {
    return {
      reason: 'AGENT_OUTDATED',
      message: `Online, but SSM Agent ${info.AgentVersion ?? '(unknown)'} is not the latest version.`,
      evidence,
      params: { resourceId },
    };
  }
  return {
    reason: 'MANAGED_ONLINE',
    message: `Managed and Online (agent ${info.AgentVersion ?? 'unknown'}).`,
    evidence,
  };
}

/**
 * DESIGN §3 R7 "Launch grace": a running (or still pending) instance launched or started less than
 * `registrationGraceMinutes` ago. EC2's `LaunchTime` is "the time that the instance was last launched"
 * (EC2 API reference): a stop/start moves it, so it also measures the time since the instance last
 * entered `running`, in every audit (scheduled, event, CLI) and without the event that started it.
 */
function registrationGrace(
  instance: Ec2Instance,
  ctx: RuleContext,
): { launchedAt: Date; dueAt: Date } | undefined {
  if (instance.state !== 'running' && instance.state !== 'pending') return undefined;
  const minutes = ctx.config.registrationGraceMinutes;
  const launchedAt = parseDate(instance.raw.LaunchTime);
  if (!launchedAt || minutes <= 0) return undefined;
  const dueAt = new Date(launchedAt.getTime() + minutes * 60_000);
  return ctx.now.getTime() < dueAt.getTime() ? { launchedAt, dueAt } : undefined;
}

function evaluateEc2(instance: Ec2Instance, ctx: RuleContext): ManagedOutcome {
  const exemption = instance.tags.get(ctx.config.exemptionTagKey);
  if (exemption !== undefined) {
    return {
      reason: 'EXEMPT_BY_TAG',
      message: `Exempt by tag ${ctx.config.exemptionTagKey}${exemption ? `: ${exemption}` : ''}.`,
      evidence: { tag: ctx.config.exemptionTagKey, value: exemption },
    };
  }
  // The state and the tags come from EC2, so these answers stand when an SSM call failed (DESIGN §3 R7).
  const registrations = ctx.inventory.section('ssm.InstanceInformationList');
  if (instance.state === 'stopped' || instance.state === 'stopping') {
    // A stopped instance cannot ping: never report it as unmanaged.
    return {
      reason: 'INSTANCE_STOPPED',
      message: `The instance is ${instance.state}; its managed status is evaluated when it runs.`,
      evidence: {
        state: instance.state,
        registered: registrations.available ? instance.info !== undefined : null,
      },
    };
  }
  // Whether a running instance is registered is DescribeInstanceInformation's answer alone.
  if (!registrations.available)
    return unavailableOutcome('ssm.InstanceInformationList', registrations, 'managed-status');
  if (instance.info) return registrationOutcome(instance.info, ctx, instance.id, EC2_PREREQUISITES);

  const { failures, doubts } = causesOf(ctx, instance.id, EC2_PREREQUISITES);
  const evidence = {
    state: instance.state,
    rootCauses: failures,
    possibleCauses: doubts,
    notCheckable: NOT_CHECKABLE,
  };
  const grace = registrationGrace(instance, ctx);
  if (grace) {
    // Not a failure yet: no alert (NOT_APPLICABLE never alerts). A failing prerequisite is reported by
    // its own rule now; this finding names it and becomes UNMANAGED if the instance is still
    // unregistered when the grace is over (the deployed product re-checks it then).
    const first = failures[0];
    const launched = grace.launchedAt.toISOString();
    const due = grace.dueAt.toISOString();
    return {
      reason: 'REGISTRATION_PENDING',
      message: first
        ? `Not registered yet (launched or started at ${launched}, grace until ${due}), and likely not to: ${first.message.replace(/\.$/, '')}.`
        : `Not registered with Systems Manager yet: launched or started at ${launched}, SSM Agent may take up to ${ctx.config.registrationGraceMinutes} minutes to register; unmanaged if still unregistered at ${due}.`,
      evidence: {
        ...evidence,
        launchTime: launched,
        registrationGraceMinutes: ctx.config.registrationGraceMinutes,
        registrationDueAt: due,
      },
      ...causeFix(first, { variant: 'noCause', params: { registrationDueAt: due } }),
    };
  }
  if (instance.state === 'pending' && failures.length === 0) {
    return {
      reason: 'NOT_YET_REGISTERED',
      message:
        'The instance is still starting and has not registered yet; every checkable prerequisite passes.',
      evidence,
    };
  }
  if (failures.length > 0) {
    const first = failures[0]!;
    return {
      reason: 'UNMANAGED',
      message: `Not managed by Systems Manager: ${first.message}${failures.length > 1 ? ` (+${failures.length - 1} more cause${failures.length > 2 ? 's' : ''})` : ''}`,
      evidence,
      params: { causeRemediation: first.remediation },
    };
  }
  if (doubts.some((d) => d.status === 'ERROR')) {
    return {
      reason: 'UNMANAGED_CAUSE_UNKNOWN',
      message: `Not managed by Systems Manager; some prerequisites could not be evaluated (${doubts
        .filter((d) => d.status === 'ERROR')
        .map((d) => d.ruleId)
        .join(', ')}).`,
      evidence,
    };
  }
  return {
    reason: 'UNMANAGED_AGENT_NOT_RUNNING',
    message: `Not managed by Systems Manager although every checkable prerequisite passes${doubts.length ? ' (with warnings)' : ''}: SSM Agent is probably not installed or not running.`,
    evidence,
  };
}

function evaluateHybrid(node: HybridNode, ctx: RuleContext): ManagedOutcome {
  return registrationOutcome(node.info, ctx, node.id, HYBRID_PREREQUISITES);
}

export default defineRule({
  meta: {
    id: 'managed-status',
    title: 'Managed status (registered and online)',
    description:
      'Each running EC2 instance and hybrid node should be registered with Systems Manager and Online; when it is not, the cause is assembled from the prerequisite rules.',
    severity: 'HIGH',
    appliesTo: ['ec2', 'hybrid'],
    // EC2: ssm.InstanceInformationList is checked by the rule, after the answers EC2 alone gives
    // (stopped, exempt), so that a failed SSM call does not turn a stopped instance into an ERROR.
    needs: {
      ec2: ['ec2.Reservations'],
      hybrid: ['ssm.InstanceInformationList'],
    },
    dependsOn: ['instance-permissions', 'network-path', 's3-bucket-access', 'hybrid-service-role'],
    reasons: REASONS,
    docsUrl: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-prereqs.html',
    references: [
      {
        seed: '000_dfb4493051e05ad4.txt',
        section: 'Systems Manager prerequisites, step 9 and note',
        quote:
          "If EC2 instances you have created aren't displaying in Systems Manager after you've follow these steps, see Troubleshooting managed instance availability.",
      },
    ],
  },
  evaluate(subject, ctx) {
    if (subject.kind === 'ec2') return evaluateEc2(subject.instance, ctx);
    if (subject.kind === 'hybrid') return evaluateHybrid(subject.node, ctx);
    throw new Error(`managed-status does not apply to ${subject.kind}`);
  },
});
