import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeSnapshotFile } from './support/snapshot-file';
import {
  buildSynthetic,
  buildSyntheticSnapshot,
  syntheticHybridCount,
  syntheticRoleCount,
} from './support/synthetic';
import { parseSnapshot } from '../shared/snapshot/load';

describe('synthetic fleet (benchmark input)', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = JSON.stringify(buildSyntheticSnapshot({ instances: 300, seed: 7 }));
    expect(JSON.stringify(buildSyntheticSnapshot({ instances: 300, seed: 7 }))).toBe(a);
    expect(JSON.stringify(buildSyntheticSnapshot({ instances: 300, seed: 8 }))).not.toBe(a);
  });

  it('passes the snapshot schema with the promised proportions', () => {
    const { snapshot, counts } = buildSynthetic({ instances: 2_000 });
    const parsed = parseSnapshot(JSON.parse(JSON.stringify(snapshot)));
    const instances = (parsed.ec2?.Reservations ?? []).flatMap((r) => r.Instances);
    const infos = parsed.ssm?.InstanceInformationList ?? [];
    expect(instances).toHaveLength(2_000);
    expect(infos.filter((i) => i.InstanceId.startsWith('mi-'))).toHaveLength(200);
    expect(new Set(instances.map((i) => i.InstanceId)).size).toBe(2_000);
    expect(parsed.ec2?.Vpcs).toHaveLength(40);
    expect(counts.instanceInformation / counts.instances).toBeGreaterThan(0.8);
    expect(counts.instanceInformation / counts.instances).toBeLessThan(0.9);
    expect(counts.tier).toBe('standard');
  });

  it.each([
    { instances: 1_000, roles: 50, hybrid: 100 },
    { instances: 100_000, roles: 400, hybrid: 10_000 },
    { instances: 1_000_000, roles: 400, hybrid: 100_000 },
  ])('sizes roles and hybrid nodes for $instances instances', ({ instances, roles, hybrid }) => {
    expect(syntheticRoleCount(instances)).toBe(roles);
    expect(syntheticHybridCount(instances)).toBe(hybrid);
  });

  it('switches to the advanced tier once the hybrid nodes exceed the standard limit of 1,000', () => {
    expect(buildSynthetic({ instances: 10_000 }).counts.tier).toBe('standard');
    expect(buildSynthetic({ instances: 10_010 }).counts).toMatchObject({
      hybridNodes: 1_001,
      tier: 'advanced',
    });
  });

  it('streams to disk exactly what JSON.stringify would write', async () => {
    const snapshot = buildSyntheticSnapshot({ instances: 200, seed: 3 });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'synthetic-test-'));
    try {
      const file = path.join(dir, 'snapshot.json');
      await writeSnapshotFile(snapshot, file);
      expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(snapshot)}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
