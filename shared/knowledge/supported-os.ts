/**
 * The operating systems SSM Agent supports, and a classifier for the `supported-os` rule.
 *
 * The input is what DescribeInstanceInformation reports for a registered node (PlatformType,
 * PlatformName, PlatformVersion). An EC2 instance that never registered has only DescribeInstances'
 * `Platform`/`PlatformDetails` ("Linux/UNIX", "Windows", "Red Hat Enterprise Linux", ...), which names
 * no version, so such instances are deliberately classified 'unknown' rather than guessed at.
 */

export type OsVerdict = 'supported' | 'deprecated' | 'unsupported' | 'unknown';

export interface OsIdentity {
  platformType?: string;
  platformName?: string;
  platformVersion?: string;
}

/**
 * Inclusive bounds, compared numerically segment by segment ('8.10' > '8.9').
 * A `max` with fewer segments than the version covers everything under it: max '9' includes '9.6', and
 * max '18.04' includes '18.04.6' — the table speaks of release lines ("9.x"), not point releases.
 * An absent bound is open.
 */
export interface VersionRange {
  min?: string;
  max?: string;
}

export interface SupportedOsEntry {
  /** Display name, e.g. 'Ubuntu Server'. */
  family: string;
  /** Tested against platformName, case-insensitive. The first matching entry wins, so order matters. */
  match: RegExp;
  platformType: 'Linux' | 'Windows' | 'MacOS';
  supported: VersionRange[];
  /** Versions whose agent support ended: they work only with an older SSM Agent. */
  deprecated?: VersionRange[];
  /** A caveat that applies to the whole family (e.g. hybrid only), shown with every verdict. */
  note?: string;
  /** Why the deprecated versions still work, and with which agent; shown only with 'deprecated'. */
  deprecatedNote?: string;
}

export interface OsClassification {
  verdict: OsVerdict;
  /** The matched entry's family, absent when nothing matched. */
  family?: string;
  /** One line for a person. */
  reason: string;
}

const WINDOWS_SERVER = 'Windows Server';
const WINDOWS_CLIENT = 'Windows (client edition)';

/*
 * Sources:
 * - Current: "Supported operating systems for Systems Manager",
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/operating-systems-and-machine-types.html
 *   (the family and version lists below). The live page could not be read from the search corpus, so its
 *   content was taken from the task brief and cross-checked against the page's predecessor:
 * - https://github.com/awsdocs/aws-systems-manager-user-guide/blob/main/doc_source/prereqs-operating-systems.md
 *   (2022 snapshot): RHEL 6.x and CentOS 6.x need SSM Agent 3.0.x ("3.1 or later are not supported");
 *   "The final officially supported version of SSM Agent for Windows Server 2008 versions is 2.3.1644.0";
 *   Amazon Linux 2012.03 – 2018.03; SLES "12 and later 12.x"; Ubuntu 12.04 LTS still listed then.
 * - Seed (old): https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-prereqs.html
 *   ("Windows Server 2003 through Windows Server 2016", Ubuntu 12.04, RHEL 6.x, CentOS 6.3+).
 * Where the seed and the current page disagree the current page wins; systems the seed lists that still
 * run an older agent are 'deprecated', and Windows Server 2003 and older are 'unsupported'.
 *
 * Upper bounds are deliberate: a release newer than the newest listed one (RHEL 10, Ubuntu 25.04) is
 * 'unknown' until someone checks the page and extends the table, instead of being assumed supported.
 */
export const SUPPORTED_OPERATING_SYSTEMS: readonly SupportedOsEntry[] = [
  {
    // PlatformName is "Amazon Linux" (2, 2023) or "Amazon Linux AMI" (2012.03 – 2018.03).
    family: 'Amazon Linux',
    match: /^amazon linux\b/i,
    platformType: 'Linux',
    supported: [
      { min: '2', max: '2' },
      { min: '2023', max: '2023' },
    ],
    deprecated: [{ min: '2012.03', max: '2018.03' }],
    deprecatedNote:
      'Amazon Linux 1 (2012.03 – 2018.03) reached end of life on 2023-12-31, and new agent releases may not run on it',
  },
  {
    family: 'AlmaLinux',
    match: /^almalinux\b/i,
    platformType: 'Linux',
    supported: [{ min: '8', max: '9' }],
  },
  {
    // Before "CentOS" so that "CentOS Stream" does not fall into the CentOS Linux entry.
    family: 'CentOS Stream',
    match: /^centos stream\b/i,
    platformType: 'Linux',
    supported: [{ min: '8', max: '9' }],
  },
  {
    family: 'CentOS',
    match: /^centos\b/i,
    platformType: 'Linux',
    supported: [{ min: '7', max: '8' }],
    deprecated: [{ min: '6', max: '6' }],
    deprecatedNote: 'CentOS 6.x runs only SSM Agent 3.0.x (agent 3.1 and later do not support it)',
  },
  {
    family: 'Debian Server',
    match: /^debian\b/i,
    platformType: 'Linux',
    supported: [{ min: '8', max: '12' }],
  },
  {
    family: 'Oracle Linux',
    match: /^oracle linux\b/i,
    platformType: 'Linux',
    supported: [{ min: '7.5', max: '9' }],
  },
  {
    // RHEL 7 reports "Red Hat Enterprise Linux Server", RHEL 8 and 9 "Red Hat Enterprise Linux".
    family: 'Red Hat Enterprise Linux',
    match: /^red hat enterprise linux\b/i,
    platformType: 'Linux',
    supported: [{ min: '7', max: '9' }],
    deprecated: [{ min: '6', max: '6' }],
    deprecatedNote: 'RHEL 6.x runs only SSM Agent 3.0.x (agent 3.1 and later do not support it)',
  },
  {
    family: 'Rocky Linux',
    match: /^rocky linux\b/i,
    platformType: 'Linux',
    supported: [{ min: '8', max: '9' }],
  },
  {
    // PlatformVersion is "<major>.<service pack>", so 12.5 is 12 SP5.
    family: 'SUSE Linux Enterprise Server',
    match: /^(sles|suse linux enterprise server)\b/i,
    platformType: 'Linux',
    supported: [
      { min: '12.5', max: '12' },
      { min: '15', max: '15' },
    ],
    deprecated: [{ min: '12', max: '12.4' }],
    deprecatedNote: 'SLES 12 before SP5 ran with earlier agents only (the current page requires SP5)',
  },
  {
    // The interim (non-LTS) releases between the LTS ones run on EC2, so the ranges have no holes.
    family: 'Ubuntu Server',
    match: /^ubuntu\b/i,
    platformType: 'Linux',
    supported: [{ min: '14.04', max: '24.10' }],
    deprecated: [{ min: '12.04', max: '13.10' }],
    deprecatedNote: 'Ubuntu 12.04 was listed by older pages; it runs only an older SSM Agent',
  },
  {
    // 32-bit Raspberry Pi OS still reports "Raspbian GNU/Linux"; the page says "Jessie (8) and later".
    family: 'Raspberry Pi OS',
    match: /^(raspbian|raspberry pi os)\b/i,
    platformType: 'Linux',
    supported: [{ min: '8' }],
    note: 'hybrid-activated (non-EC2) nodes only',
  },
  {
    family: 'macOS',
    match: /^(macos|mac os x?)\b/i,
    platformType: 'MacOS',
    supported: [{ min: '10.14', max: '14' }],
    note: 'EC2 Mac instances only: non-EC2 macOS machines cannot be hybrid-activated',
  },
  {
    // Client editions are named by their marketing version ('10', '8.1', Vista as '6', XP as '5.1') —
    // the kernel version cannot tell Windows 10 from Windows Server 2016. Before the Windows Server entry,
    // which matches any remaining "Windows" name.
    family: WINDOWS_CLIENT,
    match: /^(microsoft[\s®]+)?windows[\s®]+(10|11|8\.1|8|7|vista|xp)\b/i,
    platformType: 'Windows',
    supported: [{ min: '10', max: '11' }],
    deprecated: [{ min: '6', max: '8.1' }],
    note: 'client editions on hybrid-activated (non-EC2) nodes only',
    deprecatedNote: 'client editions before Windows 10 were never listed, so at best an older SSM Agent runs',
  },
  {
    // Versions here are release years, R2 as '.2' ('2008.2' = 2008 R2), taken from the name or, failing
    // that, from the kernel version (see windowsServerRelease).
    family: WINDOWS_SERVER,
    match: /windows/i,
    platformType: 'Windows',
    supported: [{ min: '2012', max: '2025' }],
    deprecated: [{ min: '2008', max: '2008' }],
    deprecatedNote:
      'the last SSM Agent supported on Windows Server 2008 and 2008 R2 is 2.3.1644.0, and agent 3.x may not work',
  },
];

/** Leading integers of each dot-separated segment; stops at the first segment with no leading digit. */
function parseVersion(version: string): number[] {
  const parts: number[] = [];
  for (const segment of version.trim().split('.')) {
    const digits = /^\d+/.exec(segment.trim());
    if (digits === null) break;
    parts.push(Number(digits[0]));
  }
  return parts;
}

function compareParts(a: readonly number[], b: readonly number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    // Missing segments count as zero so that '2' and '2.0' are the same version.
    const left = a[i] ?? 0;
    const right = b[i] ?? 0;
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

/**
 * Numeric, segment-wise comparison: '8.10' > '8.9', '3.2.582.0' < '3.10.0.0', '2' == '2.0'.
 * Non-numeric suffixes are ignored ('7.9.2009', '1-beta' → 1). Returns -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  return compareParts(parseVersion(a), parseVersion(b));
}

function atLeastMin(version: readonly number[], range: VersionRange): boolean {
  return range.min === undefined || compareParts(version, parseVersion(range.min)) >= 0;
}

function atMostMax(version: readonly number[], range: VersionRange): boolean {
  if (range.max === undefined) return true;
  const max = parseVersion(range.max);
  // Release-line semantics: compare only as many segments as the bound names.
  return compareParts(version.slice(0, max.length), max) <= 0;
}

function inRange(version: readonly number[], range: VersionRange): boolean {
  return atLeastMin(version, range) && atMostMax(version, range);
}

function formatRelease(entry: SupportedOsEntry, version: string): string {
  if (entry.family !== WINDOWS_SERVER) return version;
  const [year, release] = parseVersion(version);
  return `${year ?? version}${release === 2 ? ' R2' : ''}`;
}

function describeRanges(entry: SupportedOsEntry, ranges: readonly VersionRange[]): string {
  return ranges
    .map(({ min, max }) => {
      const low = min === undefined ? undefined : formatRelease(entry, min);
      const high = max === undefined ? undefined : formatRelease(entry, max);
      if (low !== undefined && high !== undefined) return low === high ? low : `${low}–${high}`;
      if (low !== undefined) return `${low} and later`;
      return high === undefined ? 'any version' : `up to ${high}`;
    })
    .join(', ');
}

/** Lowest `min` among the ranges (undefined if any range is open below). */
function lowestMin(ranges: readonly VersionRange[]): string | undefined {
  let lowest: string | undefined;
  for (const { min } of ranges) {
    if (min === undefined) return undefined;
    if (lowest === undefined || compareVersions(min, lowest) < 0) lowest = min;
  }
  return lowest;
}

/** Highest `max` among the ranges (undefined if any range is open above). */
function highestMax(ranges: readonly VersionRange[]): string | undefined {
  let highest: string | undefined;
  for (const { max } of ranges) {
    if (max === undefined) return undefined;
    if (highest === undefined || compareVersions(max, highest) > 0) highest = max;
  }
  return highest;
}

interface Release {
  /** The version in the entry's version space. */
  version: string;
  /** How to name it to a person, e.g. 'Windows Server 2008 R2' or 'Ubuntu Server 20.04'. */
  label: string;
}

/** Windows Server LTSC builds on the 10.0 kernel, newest first. */
const WINDOWS_10_KERNEL_BUILDS: readonly { build: number; year: number }[] = [
  { build: 26100, year: 2025 },
  { build: 20348, year: 2022 },
  { build: 17763, year: 2019 },
  { build: 14393, year: 2016 },
];

/** Older kernels, by major.minor. 5.1 is Windows XP, which never had a server edition. */
const WINDOWS_OLD_KERNELS: readonly { kernel: string; version: string; label: string }[] = [
  { kernel: '6.3', version: '2012.2', label: 'Windows Server 2012 R2' },
  { kernel: '6.2', version: '2012', label: 'Windows Server 2012' },
  { kernel: '6.1', version: '2008.2', label: 'Windows Server 2008 R2' },
  { kernel: '6.0', version: '2008', label: 'Windows Server 2008' },
  { kernel: '5.2', version: '2003', label: 'Windows Server 2003' },
  { kernel: '5.1', version: '2001', label: 'Windows XP' },
  { kernel: '5.0', version: '2000', label: 'Windows 2000' },
];

/**
 * The release year of a Windows Server from its name ('Microsoft Windows Server 2019 Datacenter'), else
 * from its kernel version ('6.3.9600' = 2012 R2). The name wins because the 10.0 kernel spans 2016–2025.
 */
function windowsServerRelease(name: string, kernel: string | undefined): Release | undefined {
  // Only release years: Semi-Annual Channel servers are named "version 2004" or "1909", which are not.
  const year = /\b(2000|2003|2008|2012|2016|2019|2022|2025|202[6-9]|20[3-9]\d)\b/.exec(name);
  if (year !== null) {
    const r2 = /\bR2\b/i.test(name);
    const label = Number(year[0]) >= 2003 ? `Windows Server ${year[0]}` : `Windows ${year[0]}`;
    return { version: r2 ? `${year[0]}.2` : year[0], label: r2 ? `${label} R2` : label };
  }
  const parts = kernel === undefined ? [] : parseVersion(kernel);
  const [major, minor = 0, build = 0] = parts;
  if (major === undefined) {
    return /\bNT\b/i.test(name) ? { version: '1996', label: 'Windows NT' } : undefined;
  }
  if (major >= 10) {
    // Builds between LTSC releases are Semi-Annual Channel servers; name them after the LTSC below them.
    const ltsc = WINDOWS_10_KERNEL_BUILDS.find((candidate) => build >= candidate.build);
    const yearOf = ltsc?.year ?? 2016;
    const label =
      ltsc?.build === build ? `Windows Server ${yearOf}` : `Windows Server (kernel ${kernel ?? ''})`;
    return { version: String(yearOf), label };
  }
  const old = WINDOWS_OLD_KERNELS.find(
    (candidate) => compareParts([major, minor], parseVersion(candidate.kernel)) === 0,
  );
  if (old !== undefined) return { version: old.version, label: old.label };
  // Kernels before 5.0 are Windows NT.
  return major < 5 ? { version: '1996', label: 'Windows NT' } : undefined;
}

function windowsClientRelease(name: string): Release | undefined {
  const edition = /windows[\s®]+(10|11|8\.1|8|7|vista|xp)\b/i.exec(name)?.[1]?.toLowerCase();
  if (edition === undefined) return undefined;
  const version = edition === 'vista' ? '6' : edition === 'xp' ? '5.1' : edition;
  const label = `Windows ${edition === 'vista' ? 'Vista' : edition === 'xp' ? 'XP' : edition}`;
  return { version, label };
}

function releaseOf(entry: SupportedOsEntry, os: OsIdentity, name: string): Release | undefined {
  const reported = os.platformVersion?.trim() || undefined;
  if (entry.family === WINDOWS_SERVER) return windowsServerRelease(name, reported);
  if (entry.family === WINDOWS_CLIENT) return windowsClientRelease(name);
  if (reported === undefined || parseVersion(reported).length === 0) return undefined;
  return { version: reported, label: `${entry.family} ${reported}` };
}

function withNote(reason: string, note: string | undefined): string {
  return note === undefined ? reason : `${reason}; ${note}`;
}

/** Decides whether Systems Manager supports the reported operating system. */
const classified = new Map<string, OsClassification>();

/** Memoized per distinct (type, name, version): a fleet has a few dozen platforms, not one per instance. */
export function classifyOperatingSystem(os: OsIdentity): OsClassification {
  const key = `${os.platformType ?? ''}\u0000${os.platformName ?? ''}\u0000${os.platformVersion ?? ''}`;
  let hit = classified.get(key);
  if (!hit) {
    hit = classifyUncached(os);
    if (classified.size < 10_000) classified.set(key, hit);
  }
  return hit;
}

function classifyUncached(os: OsIdentity): OsClassification {
  const name = os.platformName?.trim();
  if (name === undefined || name === '') {
    return {
      verdict: 'unknown',
      reason: 'platform not reported: the instance never registered with Systems Manager',
    };
  }

  const entry = SUPPORTED_OPERATING_SYSTEMS.find((candidate) => candidate.match.test(name));
  if (entry === undefined) {
    const version = os.platformVersion?.trim();
    const shown = version ? `${name} ${version}` : name;
    return {
      verdict: 'unknown',
      reason: `platform '${shown}' is not in the table of operating systems Systems Manager supports`,
    };
  }

  const { family } = entry;
  const release = releaseOf(entry, os, name);
  if (release === undefined) {
    return {
      verdict: 'unknown',
      family,
      reason: `${family} reported no usable version ('${os.platformVersion ?? ''}'), so support cannot be decided`,
    };
  }

  const version = parseVersion(release.version);
  const supported = entry.supported;
  const deprecated = entry.deprecated ?? [];
  const oldestSupported = lowestMin(supported);

  if (supported.some((range) => inRange(version, range))) {
    return { verdict: 'supported', family, reason: withNote(`${release.label} is supported`, entry.note) };
  }

  if (deprecated.some((range) => inRange(version, range))) {
    const why =
      oldestSupported !== undefined && compareParts(version, parseVersion(oldestSupported)) < 0
        ? `is older than the oldest supported version ${formatRelease(entry, oldestSupported)}`
        : `is no longer supported (supported: ${describeRanges(entry, supported)})`;
    return {
      verdict: 'deprecated',
      family,
      reason: withNote(`${release.label} ${why}`, entry.deprecatedNote ?? entry.note),
    };
  }

  const known = [...supported, ...deprecated];
  const oldestKnown = lowestMin(known);
  if (oldestKnown !== undefined && compareParts(version, parseVersion(oldestKnown)) < 0) {
    // Only a whole release line older than any the table knows (RHEL 5, Ubuntu 10.04, Windows Server
    // 2003) is clearly unsupported; an early point release of a known line (Oracle Linux 7.4) may well
    // run an older agent, so it is reported as deprecated instead.
    const oldestMajor = parseVersion(oldestKnown)[0] ?? 0;
    const major = version[0] ?? 0;
    if (major < oldestMajor) {
      return {
        verdict: 'unsupported',
        family,
        reason:
          `${release.label} is older than any version Systems Manager supports ` +
          `(oldest known: ${formatRelease(entry, oldestKnown)}); SSM Agent does not run on it`,
      };
    }
    return {
      verdict: 'deprecated',
      family,
      reason: withNote(
        `${release.label} is older than the oldest listed version ${formatRelease(entry, oldestKnown)}; ` +
          'at best an older SSM Agent runs on it',
        entry.note,
      ),
    };
  }

  const newestKnown = highestMax(known);
  if (newestKnown !== undefined && known.every((range) => !atMostMax(version, range))) {
    return {
      verdict: 'unknown',
      family,
      reason:
        `${release.label} is newer than the newest version this table lists ` +
        `(${formatRelease(entry, newestKnown)}); check the AWS supported operating systems page`,
    };
  }

  return {
    verdict: 'unknown',
    family,
    reason: `${release.label} is not a version Systems Manager lists (supported: ${describeRanges(entry, supported)})`,
  };
}
