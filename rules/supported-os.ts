import { classifyOperatingSystem, type OsVerdict } from '../shared/knowledge/supported-os';
import {
  defineRule,
  NO_ACTION,
  unavailableOutcome,
  type Outcome,
  type ReasonTable,
} from '../shared/engine/rule';
import type { InstanceInformationRaw } from '../shared/snapshot/schema';

const REASONS = {
  OS_SUPPORTED: { status: 'PASS', remediation: NO_ACTION },
  OS_DEPRECATED: {
    status: 'WARN',
    remediation:
      'Plan an upgrade to a supported OS version; keep the last agent version that supports this one until then.',
  },
  OS_UNSUPPORTED: {
    status: 'FAIL',
    remediation: 'Upgrade or replace this machine: SSM Agent does not run on this operating system.',
  },
  OS_UNKNOWN: {
    status: 'WARN',
    severity: 'LOW',
    remediation:
      'Check the OS against https://docs.aws.amazon.com/systems-manager/latest/userguide/operating-systems-and-machine-types.html',
  },
  INSTANCE_STOPPED: {
    status: 'NOT_APPLICABLE',
    remediation: 'None while the instance is stopped; its operating system is checked when it runs.',
  },
} as const satisfies ReasonTable;

const REASON_OF = {
  supported: 'OS_SUPPORTED',
  deprecated: 'OS_DEPRECATED',
  unsupported: 'OS_UNSUPPORTED',
  unknown: 'OS_UNKNOWN',
} as const satisfies Record<OsVerdict, keyof typeof REASONS>;

function outcomeFor(
  info: InstanceInformationRaw | undefined,
  fallback: { platformDetails?: string },
): Outcome<typeof REASONS> {
  const os = {
    platformType: info?.PlatformType,
    platformName: info?.PlatformName,
    platformVersion: info?.PlatformVersion,
  };
  const result = classifyOperatingSystem(os);
  const evidence = {
    ...os,
    ...(info ? {} : { platformDetails: fallback.platformDetails ?? null }),
    family: result.family ?? null,
  };
  return { reason: REASON_OF[result.verdict], message: result.reason, evidence };
}

export default defineRule({
  meta: {
    id: 'supported-os',
    title: 'Supported operating system',
    description: 'The platform reported by the agent must be one SSM Agent supports.',
    severity: 'MEDIUM',
    appliesTo: ['ec2', 'hybrid'],
    needs: {
      // ssm.InstanceInformationList is checked in evaluate: a stopped instance needs no answer from SSM.
      ec2: ['ec2.Reservations'],
      hybrid: ['ssm.InstanceInformationList'],
    },
    reasons: REASONS,
    docsUrl: 'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-prereqs.html',
    references: [
      {
        seed: '000_dfb4493051e05ad4.txt',
        section: 'Systems Manager prerequisites, step 3',
        quote: 'Verify that your instances run a supported operating system.',
      },
      {
        seed: '001_9d30653fa0257c60.txt',
        section: 'Supported Operating Systems',
        quote: 'Managed instances must run a supported version of Windows or Linux.',
      },
    ],
  },
  evaluate(subject, context) {
    if (subject.kind === 'ec2') {
      const registrations = context.inventory.section('ssm.InstanceInformationList');
      if (!registrations.available) {
        const { state } = subject.instance;
        // The OS comes from the agent's registration. For a stopped instance a failed SSM call is no
        // problem to report (DESIGN §3: stopped instances stay NOT_APPLICABLE when an SSM call fails).
        if (state === 'stopped' || state === 'stopping')
          return {
            reason: 'INSTANCE_STOPPED',
            message: `The instance is ${state}; its operating system is checked when it runs.`,
            evidence: { state },
          };
        return unavailableOutcome('ssm.InstanceInformationList', registrations, 'supported-os');
      }
      return outcomeFor(subject.instance.info, { platformDetails: subject.instance.raw.PlatformDetails });
    }
    if (subject.kind === 'hybrid') return outcomeFor(subject.node.info, {});
    throw new Error(`supported-os does not apply to ${subject.kind}`);
  },
});
