import {
  classifyOperatingSystem,
  compareVersions,
  SUPPORTED_OPERATING_SYSTEMS,
  type OsIdentity,
  type OsVerdict,
} from '../shared/knowledge/supported-os';

interface ClassifyCase {
  case: string;
  given: OsIdentity;
  expected: { verdict: OsVerdict; family: string | undefined };
}

// Platform strings are as DescribeInstanceInformation reports them.
const linux = (platformName: string, platformVersion: string): OsIdentity => ({
  platformType: 'Linux',
  platformName,
  platformVersion,
});
const windows = (platformName: string, platformVersion: string): OsIdentity => ({
  platformType: 'Windows',
  platformName,
  platformVersion,
});

const classifyCases: ClassifyCase[] = [
  // Supported: one row per family.
  {
    case: 'Amazon Linux 2',
    given: linux('Amazon Linux', '2'),
    expected: { verdict: 'supported', family: 'Amazon Linux' },
  },
  {
    case: 'Amazon Linux 2023',
    given: linux('Amazon Linux', '2023'),
    expected: { verdict: 'supported', family: 'Amazon Linux' },
  },
  {
    case: 'AlmaLinux 9.2',
    given: linux('AlmaLinux', '9.2'),
    expected: { verdict: 'supported', family: 'AlmaLinux' },
  },
  {
    case: 'CentOS Linux 7.9.2009 (build suffix ignored)',
    given: linux('CentOS Linux', '7.9.2009'),
    expected: { verdict: 'supported', family: 'CentOS' },
  },
  {
    case: 'CentOS Stream 9 is not taken for CentOS Linux',
    given: linux('CentOS Stream', '9'),
    expected: { verdict: 'supported', family: 'CentOS Stream' },
  },
  {
    case: 'Debian 11',
    given: linux('Debian GNU/Linux', '11'),
    expected: { verdict: 'supported', family: 'Debian Server' },
  },
  {
    case: 'Oracle Linux 8.7',
    given: linux('Oracle Linux Server', '8.7'),
    expected: { verdict: 'supported', family: 'Oracle Linux' },
  },
  {
    case: 'RHEL 7.9 (Server naming)',
    given: linux('Red Hat Enterprise Linux Server', '7.9'),
    expected: { verdict: 'supported', family: 'Red Hat Enterprise Linux' },
  },
  {
    case: 'RHEL 8.10 (two-digit minor)',
    given: linux('Red Hat Enterprise Linux', '8.10'),
    expected: { verdict: 'supported', family: 'Red Hat Enterprise Linux' },
  },
  {
    case: 'Rocky Linux 8.8',
    given: linux('Rocky Linux', '8.8'),
    expected: { verdict: 'supported', family: 'Rocky Linux' },
  },
  {
    case: 'SLES 15.4',
    given: linux('SLES', '15.4'),
    expected: { verdict: 'supported', family: 'SUSE Linux Enterprise Server' },
  },
  {
    case: 'SLES 12 SP5',
    given: linux('SLES', '12.5'),
    expected: { verdict: 'supported', family: 'SUSE Linux Enterprise Server' },
  },
  {
    case: 'Ubuntu 20.04',
    given: linux('Ubuntu', '20.04'),
    expected: { verdict: 'supported', family: 'Ubuntu Server' },
  },
  {
    case: 'Raspbian 11 (hybrid)',
    given: linux('Raspbian GNU/Linux', '11'),
    expected: { verdict: 'supported', family: 'Raspberry Pi OS' },
  },
  {
    case: 'macOS 13.4',
    given: { platformType: 'MacOS', platformName: 'macOS', platformVersion: '13.4' },
    expected: { verdict: 'supported', family: 'macOS' },
  },
  {
    case: 'Windows Server 2019 by name',
    given: windows('Microsoft Windows Server 2019 Datacenter', '10.0.17763'),
    expected: { verdict: 'supported', family: 'Windows Server' },
  },
  {
    case: 'Windows Server 2012 R2 by name',
    given: windows('Microsoft Windows Server 2012 R2 Standard', '6.3.9600'),
    expected: { verdict: 'supported', family: 'Windows Server' },
  },
  {
    case: 'Windows Server 2012 by kernel only',
    given: windows('Microsoft Windows Server Standard', '6.2.9200'),
    expected: { verdict: 'supported', family: 'Windows Server' },
  },
  {
    case: 'Windows 10 client (hybrid only)',
    given: windows('Microsoft Windows 10 Pro', '10.0.19045'),
    expected: { verdict: 'supported', family: 'Windows (client edition)' },
  },

  // Deprecated: works only with an older agent.
  {
    case: 'Windows Server 2008 R2 by name',
    given: windows('Microsoft Windows Server 2008 R2 Datacenter', '6.1.7601'),
    expected: { verdict: 'deprecated', family: 'Windows Server' },
  },
  {
    case: 'Windows Server 2008 by kernel 6.0.6002',
    given: windows('Microsoft Windows Server Enterprise', '6.0.6002'),
    expected: { verdict: 'deprecated', family: 'Windows Server' },
  },
  {
    case: 'RHEL 6.10',
    given: linux('Red Hat Enterprise Linux Server', '6.10'),
    expected: { verdict: 'deprecated', family: 'Red Hat Enterprise Linux' },
  },
  {
    case: 'CentOS 6.10',
    given: linux('CentOS', '6.10'),
    expected: { verdict: 'deprecated', family: 'CentOS' },
  },
  {
    case: 'Amazon Linux AMI 2018.03',
    given: linux('Amazon Linux AMI', '2018.03'),
    expected: { verdict: 'deprecated', family: 'Amazon Linux' },
  },
  {
    case: 'Ubuntu 12.04',
    given: linux('Ubuntu', '12.04'),
    expected: { verdict: 'deprecated', family: 'Ubuntu Server' },
  },
  {
    case: 'SLES 12 SP4 (before SP5)',
    given: linux('SLES', '12.4'),
    expected: { verdict: 'deprecated', family: 'SUSE Linux Enterprise Server' },
  },
  {
    case: 'Oracle Linux 7.4 is older than 7.5 but of a known line, so not clearly unsupported',
    given: linux('Oracle Linux Server', '7.4'),
    expected: { verdict: 'deprecated', family: 'Oracle Linux' },
  },
  {
    case: 'Windows 7 client',
    given: windows('Microsoft Windows 7 Professional', '6.1.7601'),
    expected: { verdict: 'deprecated', family: 'Windows (client edition)' },
  },

  // Unsupported: clearly older than anything Systems Manager ever supported.
  {
    case: 'Windows Server 2003 by name',
    given: windows('Microsoft Windows Server 2003 R2 Enterprise Edition', '5.2.3790'),
    expected: { verdict: 'unsupported', family: 'Windows Server' },
  },
  {
    case: 'Windows Server 2003 by kernel 5.2.3790',
    given: windows('Microsoft Windows Server Enterprise Edition', '5.2.3790'),
    expected: { verdict: 'unsupported', family: 'Windows Server' },
  },
  {
    case: 'Windows 2000',
    given: windows('Microsoft Windows 2000 Server', '5.0.2195'),
    expected: { verdict: 'unsupported', family: 'Windows Server' },
  },
  {
    case: 'Windows NT by kernel',
    given: windows('Microsoft Windows NT Server', '4.0.1381'),
    expected: { verdict: 'unsupported', family: 'Windows Server' },
  },
  {
    case: 'RHEL 5.11',
    given: linux('Red Hat Enterprise Linux Server', '5.11'),
    expected: { verdict: 'unsupported', family: 'Red Hat Enterprise Linux' },
  },
  {
    case: 'CentOS 5',
    given: linux('CentOS', '5'),
    expected: { verdict: 'unsupported', family: 'CentOS' },
  },
  {
    case: 'Ubuntu 10.04',
    given: linux('Ubuntu', '10.04'),
    expected: { verdict: 'unsupported', family: 'Ubuntu Server' },
  },

  // Unknown: nothing to decide on, or nothing the table can vouch for.
  {
    case: 'missing platform name (never registered)',
    given: { platformType: 'Linux' },
    expected: { verdict: 'unknown', family: undefined },
  },
  {
    case: 'blank platform name',
    given: { platformName: '  ', platformVersion: '2' },
    expected: { verdict: 'unknown', family: undefined },
  },
  {
    case: 'platform not in the table',
    given: linux('FreeBSD', '13.2'),
    expected: { verdict: 'unknown', family: undefined },
  },
  {
    case: 'newer than the newest listed release',
    given: linux('Red Hat Enterprise Linux', '10.0'),
    expected: { verdict: 'unknown', family: 'Red Hat Enterprise Linux' },
  },
  {
    case: 'known family without a version',
    given: { platformType: 'Linux', platformName: 'Ubuntu' },
    expected: { verdict: 'unknown', family: 'Ubuntu Server' },
  },
  {
    case: 'version between listed ranges (Amazon Linux 2022 preview)',
    given: linux('Amazon Linux', '2022'),
    expected: { verdict: 'unknown', family: 'Amazon Linux' },
  },
];

describe('classifyOperatingSystem', () => {
  it.each(classifyCases)('$case', ({ given, expected }) => {
    const result = classifyOperatingSystem(given);
    expect({ verdict: result.verdict, family: result.family }).toEqual(expected);
    expect(result.reason.length).toBeGreaterThan(0);
  });

  it('names the oldest supported version when a release is deprecated', () => {
    expect(classifyOperatingSystem(linux('Ubuntu', '12.04')).reason).toMatch(
      /^Ubuntu Server 12\.04 is older than the oldest supported version 14\.04/,
    );
  });

  it('names Windows releases by year, with R2, rather than by kernel', () => {
    const { reason } = classifyOperatingSystem(windows('Microsoft Windows Server Datacenter', '6.1.7601'));
    expect(reason).toMatch(/^Windows Server 2008 R2 is older than the oldest supported version 2012/);
    expect(reason).toContain('2.3.1644.0');
  });

  it('explains why an unregistered instance cannot be classified', () => {
    expect(classifyOperatingSystem({}).reason).toBe(
      'platform not reported: the instance never registered with Systems Manager',
    );
  });

  it('names the platform that matched no entry', () => {
    expect(classifyOperatingSystem(linux('FreeBSD', '13.2')).reason).toContain('FreeBSD 13.2');
  });

  it('carries the hybrid-only caveat for Windows client editions', () => {
    expect(classifyOperatingSystem(windows('Microsoft Windows 11 Enterprise', '10.0.22631')).reason).toMatch(
      /hybrid/,
    );
  });
});

describe('compareVersions', () => {
  it.each([
    { case: "'8.10' is newer than '8.9'", given: ['8.10', '8.9'], expected: 1 },
    { case: "'3.2.582.0' is older than '3.10.0.0'", given: ['3.2.582.0', '3.10.0.0'], expected: -1 },
    { case: "'2' equals '2.0' (trailing zeros)", given: ['2', '2.0'], expected: 0 },
    { case: "'7.9.2009' is newer than '7.9'", given: ['7.9.2009', '7.9'], expected: 1 },
    { case: "'20.04' is older than '22.04'", given: ['20.04', '22.04'], expected: -1 },
    { case: "non-numeric suffix ignored: '1.2-beta' equals '1.2'", given: ['1.2-beta', '1.2'], expected: 0 },
  ] as const)('$case', ({ given: [a, b], expected }) => {
    expect(compareVersions(a, b)).toBe(expected);
    expect(compareVersions(b, a)).toBe(-expected || 0);
  });
});

describe('SUPPORTED_OPERATING_SYSTEMS', () => {
  it('has a supported range for every family and no duplicate family names', () => {
    const families = SUPPORTED_OPERATING_SYSTEMS.map((entry) => entry.family);
    expect(new Set(families).size).toBe(families.length);
    for (const entry of SUPPORTED_OPERATING_SYSTEMS) expect(entry.supported.length).toBeGreaterThan(0);
  });
});
