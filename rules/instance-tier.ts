import { parseDate, tierSetting } from '../shared/snapshot/inventory';
import { defineRule, NO_ACTION, type Outcome, type ReasonTable } from '../shared/engine/rule';
import { STANDARD_TIER_LIMIT, TIER_SETTING_ID } from '../shared/knowledge/ssm-requirements';

const DAY_MS = 86_400_000;
const ADVANCED =
  `aws ssm update-service-setting --setting-id ${TIER_SETTING_ID} --setting-value advanced` as const;
/** `{deregisterCommands}`: one command per stale node (the first three, then "; ..."). */
const DEREGISTER = 'Deregister dead nodes: {deregisterCommands}';

const REASONS = {
  ADVANCED_TIER: { status: 'PASS', remediation: NO_ACTION },
  STANDARD_TIER_OK: { status: 'PASS', remediation: NO_ACTION },
  STANDARD_TIER_OK_SESSION_MANAGER_NEEDS_ADVANCED: { status: 'PASS', remediation: NO_ACTION },
  TIER_LIMIT_REACHED: {
    status: 'FAIL',
    remediation: {
      staleNodes: `${DEREGISTER}, or switch to the advanced tier: ${ADVANCED}`,
      noStaleNodes: `Switch to the advanced tier: ${ADVANCED}`,
    },
  },
  TIER_NEAR_LIMIT: {
    status: 'WARN',
    remediation: {
      staleNodes: `${DEREGISTER}, or plan the advanced tier: ${ADVANCED}`,
      noStaleNodes: `Plan the advanced tier: ${ADVANCED}`,
    },
  },
  STALE_HYBRID_REGISTRATIONS: { status: 'WARN', severity: 'LOW', remediation: DEREGISTER },
} as const satisfies ReasonTable;

export default defineRule({
  meta: {
    id: 'instance-tier',
    title: 'Hybrid instance tier and the 1,000-node standard limit',
    description:
      'The standard tier allows at most 1,000 hybrid nodes per account and region; long-dead registrations still count.',
    severity: 'HIGH',
    appliesTo: ['account'],
    needs: { account: ['ssm.InstanceInformationList', 'ssm.ServiceSettings'] },
    reasons: REASONS,
    docsUrl:
      'https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-configure-instance-tiers.html',
    references: [
      {
        seed: '003_83aa51167c137897.txt',
        section: 'About instance tiers',
        quote:
          'The standard-instances tier enables you to register a maximum of 1,000 on-premises servers or VMs per AWS account per AWS Region.',
      },
    ],
  },
  evaluate(subject, ctx): Outcome<typeof REASONS> {
    if (subject.kind !== 'account') throw new Error(`instance-tier does not apply to ${subject.kind}`);
    const { inventory, config, now } = ctx;
    const tier = tierSetting(inventory);
    const nodes = [...inventory.hybridNodes.values()];
    const staleCutoff = now.getTime() - config.staleHybridDays * DAY_MS;
    const stale = nodes
      .filter((n) => n.info.PingStatus === 'ConnectionLost')
      .filter((n) => {
        const ping = parseDate(n.info.LastPingDateTime);
        return ping !== undefined && ping.getTime() < staleCutoff;
      })
      .map((n) => ({
        id: n.id,
        lastPing: parseDate(n.info.LastPingDateTime)!.toISOString(),
        name: n.info.Name ?? n.info.ComputerName ?? null,
      }));
    const count = nodes.length;
    const evidence = {
      tier,
      registeredHybridNodes: count,
      ...(tier === 'standard'
        ? { limit: STANDARD_TIER_LIMIT, usedPercent: Math.round((count / STANDARD_TIER_LIMIT) * 1000) / 10 }
        : {}),
      staleRegistrations: stale.slice(0, 50),
      staleRegistrationCount: stale.length,
      staleAfterDays: config.staleHybridDays,
    };
    if (tier !== 'standard') {
      return {
        reason: 'ADVANCED_TIER',
        message: `Advanced tier: ${count} hybrid node${count === 1 ? '' : 's'} registered; Session Manager is available for them.`,
        evidence,
      };
    }
    const percent = (count / STANDARD_TIER_LIMIT) * 100;
    const staleText = stale.length
      ? `; ${stale.length} of them lost connection over ${config.staleHybridDays} days ago and still use quota`
      : '';
    const deregisterCommands = `${stale
      .slice(0, 3)
      .map((s) => `aws ssm deregister-managed-instance --instance-id ${s.id}`)
      .join('; ')}${stale.length > 3 ? '; ...' : ''}`;
    const fix = stale.length
      ? ({ variant: 'staleNodes', params: { deregisterCommands } } as const)
      : ({ variant: 'noStaleNodes' } as const);
    if (percent >= 100) {
      return {
        reason: 'TIER_LIMIT_REACHED',
        message: `${count} hybrid nodes registered: the standard tier limit of ${STANDARD_TIER_LIMIT} is reached and new registrations are refused${staleText}.`,
        evidence,
        ...fix,
      };
    }
    if (percent >= config.tierWarnPercent) {
      return {
        reason: 'TIER_NEAR_LIMIT',
        message: `${count} of ${STANDARD_TIER_LIMIT} standard-tier hybrid registrations used (${percent.toFixed(1)} %, warning at ${config.tierWarnPercent} %)${staleText}.`,
        evidence,
        ...fix,
      };
    }
    if (stale.length > 0) {
      return {
        reason: 'STALE_HYBRID_REGISTRATIONS',
        message: `${stale.length} hybrid node${stale.length === 1 ? '' : 's'} lost connection over ${config.staleHybridDays} days ago and still consume standard-tier quota.`,
        evidence,
        params: { deregisterCommands },
      };
    }
    return {
      reason: count > 0 ? 'STANDARD_TIER_OK_SESSION_MANAGER_NEEDS_ADVANCED' : 'STANDARD_TIER_OK',
      message:
        count > 0
          ? `${count} of ${STANDARD_TIER_LIMIT} standard-tier hybrid registrations used. Info: Session Manager on hybrid nodes needs the advanced tier.`
          : 'No hybrid nodes registered (standard tier).',
      evidence:
        count > 0
          ? {
              ...evidence,
              info: 'Session Manager requires the advanced-instances tier for hybrid nodes (https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-configure-instance-tiers.html).',
            }
          : evidence,
    };
  },
});
