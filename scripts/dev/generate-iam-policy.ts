/**
 * The auditor's read-only IAM policy, generated from the one action list (shared/collect/permissions.ts):
 *
 *   npx tsx scripts/dev/generate-iam-policy.ts                        # print the policy (partition aws)
 *   npx tsx scripts/dev/generate-iam-policy.ts --partition aws-cn     # for AWS China (aws-us-gov: GovCloud)
 *   npx tsx scripts/dev/generate-iam-policy.ts --write                # regenerate the committed files
 *
 * The committed files, which a test keeps equal to the generator's output:
 * - scripts/iam/ssm-audit-read-only-policy.json: the policy for `ssm-audit scan --region` in the `aws`
 *   partition (a plain IAM policy cannot use CloudFormation's ${AWS::Partition});
 * - scripts/deploy/read-account-policy.json: the same policy for the deployed functions' roles, whose
 *   ARNs take the stack's partition (`Fn::Sub` with ${AWS::Partition});
 * - scripts/deploy/member-stackset.json: Organization mode's member-account StackSet template, whose
 *   role carries that same policy (scripts/deploy/member-stackset.ts builds it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  PARTITIONS,
  organizationPolicy,
  readOnlyPolicy,
  readOnlyPolicyForCloudFormation,
  type Partition,
} from '../../shared/collect/permissions';
import { MEMBER_STACKSET_FILE, memberStackSetTemplate } from '../deploy/member-stackset';

const ROOT = path.join(__dirname, '..', '..');
export const POLICY_FILES = {
  cli: path.join(ROOT, 'scripts', 'iam', 'ssm-audit-read-only-policy.json'),
  cloudFormation: path.join(ROOT, 'scripts', 'deploy', 'read-account-policy.json'),
  organization: path.join(ROOT, 'scripts', 'iam', 'ssm-audit-org-policy.json'),
  memberStackSet: MEMBER_STACKSET_FILE,
} as const;

/** The committed files' contents (as documents; `--write` formats them with the repository's Prettier). */
export function generatedPolicies(): Record<keyof typeof POLICY_FILES, Record<string, unknown>> {
  return {
    cli: readOnlyPolicy('aws'),
    cloudFormation: readOnlyPolicyForCloudFormation(),
    organization: organizationPolicy('aws'),
    memberStackSet: memberStackSetTemplate(),
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let partition: Partition = 'aws';
  let write = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--write') write = true;
    else if (arg === '--partition') {
      const value = argv[++i];
      if (!PARTITIONS.includes(value as Partition)) {
        process.stderr.write(`--partition must be one of ${PARTITIONS.join(', ')}\n`);
        return 2;
      }
      partition = value as Partition;
    } else {
      process.stderr.write(
        'usage: npx tsx scripts/dev/generate-iam-policy.ts [--partition aws|aws-cn|aws-us-gov] [--write]\n',
      );
      return 2;
    }
  }
  if (write) {
    const prettier = await import('prettier');
    const policies = generatedPolicies();
    for (const key of Object.keys(POLICY_FILES) as (keyof typeof POLICY_FILES)[]) {
      const file = POLICY_FILES[key];
      const options = { ...(await prettier.resolveConfig(file)), filepath: file };
      writeFileSync(file, await prettier.format(JSON.stringify(policies[key]), options));
      process.stderr.write(`wrote ${path.relative(ROOT, file)}\n`);
    }
    return 0;
  }
  process.stdout.write(`${JSON.stringify(readOnlyPolicy(partition), null, 2)}\n`);
  return 0;
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
