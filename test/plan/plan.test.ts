import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RULES } from '../../rules';
import { main } from '../../scripts/ssm-audit/cli';
import { BLOCKING_RULES, buildPlan, type FixPlan } from '../../scripts/ssm-audit/plan';
import { planScript } from '../../scripts/ssm-audit/plan-command';
import { auditSnapshot } from '../../shared/engine/audit';
import type { Finding } from '../../shared/model';
import { loadSnapshotFile } from '../../shared/snapshot/load';
import type { Snapshot } from '../../shared/snapshot/schema';
import { applyFixes } from '../support/apply-fix';

/** `ssm-audit plan` over the demo fleet (issue 14 item 4): ranking, figures, script, and the re-audit. */

const DEMO = 'test/fixtures/demo/demo-fleet.json';

let snapshot: Snapshot;
let plan: FixPlan;

const auditOf = (s: Snapshot) => {
  const now = new Date(s.collectedAt);
  return auditSnapshot(s, { rules: RULES, now, evaluatedAt: now }).findings;
};

/** The nodes with no failing prerequisite (what a fix can change), among the plan's counted nodes. */
const withoutBlockingFailure = (findings: readonly Finding[], nodes: ReadonlySet<string>) => {
  const blocked = new Set(
    findings
      .filter((f) => (BLOCKING_RULES as readonly string[]).includes(f.ruleId))
      .filter((f) => f.status === 'FAIL' || f.status === 'ERROR')
      .map((f) => f.resourceId),
  );
  return new Set([...nodes].filter((id) => !blocked.has(id)));
};

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', 'plan', ...args], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    isTTY: false,
  });
  return { code, out, err };
}

beforeAll(async () => {
  snapshot = await loadSnapshotFile(DEMO);
  plan = buildPlan(auditOf(snapshot), snapshot);
});

describe('the ranking over the demo fleet', () => {
  it('counts the fleet as the report does and says how far the plan gets', () => {
    expect(plan.totals).toEqual({
      EC2Instance: { total: 43, manageable: 26 },
      ManagedInstance: { total: 844, manageable: 838 },
    });
    expect(plan.steps).toHaveLength(15);
    expect(plan.steps.at(-1)!.after).toEqual({ EC2Instance: 39, ManagedInstance: 841 });
  });

  it('ranks by nodes made fully manageable, then fewest commands, then id', () => {
    const first = plan.steps.slice(0, 4).map((s) => [s.fix.id, s.unblocked.length]);
    expect(first).toEqual([
      ['hybrid-role:SSMHybridRole-kiosk', 2],
      ['vpc-endpoints:vpc-0cd7916a123f0ce67', 2],
      ['imdsv2:eu-west-1', 1],
      ['nacl-allow:acl-0857dbc7c47006eec:egress-443', 1],
    ]);
    expect(plan.steps[0]!.unblocked.sort()).toEqual(['mi-04ba2b7a10112921a', 'mi-0d93087745bce83c2']);
    // Gains never grow down the list (a fix completing nothing alone is followed by the one that does).
    const gains = plan.steps.map((s) => s.unblocked.length).filter((n) => n > 0);
    expect([...gains].sort((a, b) => b - a)).toEqual(gains);
  });

  it('needs every fix of a node before counting it: reporting-1 needs the core policy and the S3 grant', () => {
    const attach = plan.steps.find(
      (s) => s.fix.id === 'attach-policy:reporting-role:AmazonSSMManagedInstanceCore',
    )!;
    const grant = plan.steps.find((s) => s.fix.id === 's3-policy:reporting-role')!;
    expect(attach.unblocked).toEqual([]);
    expect(grant.rank).toBe(attach.rank + 1);
    expect(grant.unblocked).toEqual(['i-046489cbaa6873517']);
  });

  it('lists what no fix of the plan clears: an unsupported OS, a deliberate Deny, an agent that is not running', () => {
    const held = new Map(plan.heldBack.map((h) => [h.nodeId, h.reasons.join(' ')]));
    expect(held.get('i-0633fb896ce31d15d')).toMatch(/supported-os OS_UNSUPPORTED/);
    expect(held.get('i-02f585bc7327686c4')).toMatch(/explicitly denies agent actions: a person must decide/);
    expect(held.get('i-086e7d49b48ba32c8')).toMatch(/managed-status CONNECTION_LOST/);
    expect(plan.heldBack).toHaveLength(7);
  });

  it('fills the commands with the real ids', () => {
    const endpoints = plan.steps.find((s) => s.fix.id === 'vpc-endpoints:vpc-0cd7916a123f0ce67')!.fix;
    const lines = endpoints.commands.map((c) => c.argv.join(' '));
    expect(lines).toContain(
      'aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-021425804eaefcac0 --private-dns-enabled',
    );
    expect(
      lines.some(
        (l) => l.includes('create-vpc-endpoint') && l.includes('com.amazonaws.eu-west-1.ec2messages'),
      ),
    ).toBe(true);
    const nacl = plan.steps.find((s) => s.fix.id === 'nacl-allow:acl-0857dbc7c47006eec:egress-443')!.fix;
    expect(nacl.commands[0]!.argv.join(' ')).toBe(
      'aws ec2 create-network-acl-entry --network-acl-id acl-0857dbc7c47006eec --egress --rule-number 89 --protocol tcp --port-range From=443,To=443 --cidr-block 0.0.0.0/0 --rule-action allow',
    );
    expect(plan.otherFixes.map((f) => f.id)).toContain(
      'renew-activation:85dca8b8-49cd-466f-a5c8-7663bb28d6d4',
    );
  });
});

describe('applying the plan to the snapshot', () => {
  const counted = () =>
    new Set([
      ...plan.heldBack.map((h) => h.nodeId),
      ...managedAfter(plan, 0),
      ...plan.steps.flatMap((s) => s.unblocked),
    ]);
  const managedAfter = (p: FixPlan, n: number) => {
    const before = withoutBlockingFailure(auditOf(snapshot), allNodes);
    return new Set([...before, ...p.steps.slice(0, n).flatMap((s) => s.unblocked)]);
  };
  let allNodes: Set<string>;
  beforeAll(() => {
    allNodes = new Set(
      auditOf(snapshot)
        .filter(
          (f) =>
            f.ruleId === 'managed-status' &&
            (f.status !== 'NOT_APPLICABLE' || f.reason === 'REGISTRATION_PENDING'),
        )
        .map((f) => f.resourceId),
    );
  });

  it.each([0, 1, 3, 6, 10, 13, 14, 15])(
    'after the first %i fixes, the re-audit clears exactly the counted nodes',
    (n) => {
      const fixed = applyFixes(
        snapshot,
        plan.steps.slice(0, n).map((s) => s.fix),
      );
      const reaudit = withoutBlockingFailure(auditOf(fixed), allNodes);
      // Nodes held back for the agent (CONNECTION_LOST with every prerequisite passing) have no failing
      // prerequisite before or after: they are not the plan's to count.
      const agentOnly = new Set(
        plan.heldBack
          .filter((h) => h.reasons.every((r) => r.startsWith('managed-status')))
          .map((h) => h.nodeId),
      );
      const expected = managedAfter(plan, n);
      expect([...reaudit].filter((id) => !agentOnly.has(id)).sort()).toEqual(
        [...expected].filter((id) => !agentOnly.has(id)).sort(),
      );
      const row = n === 0 ? undefined : plan.steps[n - 1]!.after;
      if (row)
        expect((row.EC2Instance ?? 0) + (row.ManagedInstance ?? 0)).toBe(
          [...expected].filter((id) => !agentOnly.has(id)).length,
        );
      expect(counted().size).toBe(allNodes.size);
    },
  );
});

describe('--format sh', () => {
  let script: string;
  beforeAll(() => {
    script = planScript(plan);
  });

  it('is a reviewed bash script: strict mode, dry run by default, each fix commented with the nodes it unblocks', () => {
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/usr/bin/env bash');
    expect(lines).toContain('set -euo pipefail');
    expect(lines).toContain('DRY_RUN=${DRY_RUN:-1}');
    expect(script).toMatch(
      /^# 1\. Let ssm\.amazonaws\.com assume the hybrid service role SSMHybridRole-kiosk\n#   \[hybrid-role:SSMHybridRole-kiosk\]\n# Unblocks 2: mi-04ba2b7a10112921a, mi-0d93087745bce83c2\n/m,
    );
    // Every command runs through run/capture; none runs bare.
    const commands = lines.filter((l) => /^(run|capture) /.test(l));
    expect(commands.length).toBe(plan.steps.reduce((n, s) => n + s.fix.commands.length, 0));
    expect(lines.filter((l) => /^aws /.test(l))).toEqual([]);
  });

  it('only prints its commands unless DRY_RUN=0 (run by bash, with no aws on the PATH)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'plan-sh-'));
    const file = path.join(dir, 'plan.sh');
    writeFileSync(file, script);
    execFileSync('bash', ['-n', file]);
    const out = execFileSync('bash', [file], {
      env: { PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain(
      '+ aws ec2 create-network-acl-entry --network-acl-id acl-0857dbc7c47006eec --egress --rule-number 89',
    );
    // The security group created for new endpoints is used by the next commands (a placeholder in a dry run).
    expect(out).toMatch(
      /\+ aws ec2 create-vpc-endpoint .* --security-group-ids sg-DRYRUN --private-dns-enabled/,
    );
    expect(out.split('\n').filter((l) => l.startsWith('+ aws')).length).toBe(
      plan.steps.reduce((n, s) => n + s.fix.commands.length, 0),
    );
  });
});

describe('the plan command', () => {
  it('prints the table: before, after, then the ranked fixes', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--width', '100']);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[1]).toBe('From snapshot 2026-11-23T10:00:00Z.');
    expect(lines[2]).toBe(
      'Before any fix, 26 of 43 running instances and 838 of 844 hybrid nodes are manageable.',
    );
    expect(lines[3]).toBe(
      'After these 15 fixes, 39 of 43 running instances and 841 of 844 hybrid nodes are manageable.',
    );
    expect(out).toMatch(/^1\. Let ssm\.amazonaws\.com assume the hybrid service role SSMHybridRole-kiosk/m);
    expect(out).toContain('Not made manageable by this plan (7)');
    // Text wraps to the width; only a command may be longer.
    for (const line of lines) if (!/^\s+\$ /.test(line)) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('prints JSON with the steps and the summary', async () => {
    const { code, out } = await run(['--snapshot', DEMO, '--format', 'json']);
    expect(code).toBe(0);
    const json = JSON.parse(out) as {
      summary: string;
      steps: { fix: { id: string; commands: { line: string }[] } }[];
    };
    expect(json.summary).toBe(
      'after these 15 fixes, 39 of 43 running instances and 841 of 844 hybrid nodes are manageable',
    );
    expect(json.steps[0]!.fix.commands[0]!.line).toMatch(
      /^aws iam update-assume-role-policy --role-name SSMHybridRole-kiosk --policy-document '\{/,
    );
  });

  it('rejects a bad format and a snapshot with live options', async () => {
    const bad = await run(['--snapshot', DEMO, '--format', 'yaml']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('invalid --format yaml: expected table, json or sh');
    const both = await run(['--snapshot', DEMO, '--region', 'eu-west-1']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('--snapshot plans from a saved snapshot');
  });
});
