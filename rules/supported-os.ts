import { unavailableOutcome } from '../shared/engine';
import { classifyOperatingSystem } from '../shared/supported-os';
import { defineRule, type Outcome } from '../shared/rule';
import type { InstanceInformationRaw } from '../shared/snapshot/schema';

function outcomeFor(
  info: InstanceInformationRaw | undefined,
  fallback: { platformDetails?: string },
): Outcome {
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
  switch (result.verdict) {
    case 'supported':
      return { status: 'PASS', reason: 'OS_SUPPORTED', message: result.reason, evidence };
    case 'deprecated':
      return {
        status: 'WARN',
        reason: 'OS_DEPRECATED',
        message: result.reason,
        evidence,
        remediation:
          'Plan an upgrade to a supported OS version; keep the last agent version that supports this one until then.',
      };
    case 'unsupported':
      return {
        status: 'FAIL',
        reason: 'OS_UNSUPPORTED',
        message: result.reason,
        evidence,
        remediation: 'Upgrade or replace this machine: SSM Agent does not run on this operating system.',
      };
    default:
      return {
        status: 'WARN',
        severity: 'LOW',
        reason: 'OS_UNKNOWN',
        message: result.reason,
        evidence,
        remediation:
          'Check the OS against https://docs.aws.amazon.com/systems-manager/latest/userguide/operating-systems-and-machine-types.html',
      };
  }
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
    remediation:
      'Run a supported operating system version (see the AWS list of supported operating systems).',
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
            status: 'NOT_APPLICABLE',
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
