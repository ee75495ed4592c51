import { NOW, audit } from '../support/helpers';
import { buildCollectionFleet } from '../support/collection-fleet';

/**
 * Issue 9 item 7: a call that failed (HTTP 5xx, timeout, unreachable endpoint) is worded as a failure
 * with a retry/network remediation; only a denied call sends the user to IAM.
 */
describe('ERROR findings word failures and denials differently', () => {
  const withCall = (status: 'denied' | 'error', error: string) => {
    const { snapshot } = buildCollectionFleet({ instances: 3 });
    return { ...snapshot, calls: { 'ssm:GetServiceSetting': { status, error } } };
  };
  const errorsOf = (snapshot: ReturnType<typeof withCall>) =>
    audit(snapshot, { now: NOW }).findings.filter(
      (f) => f.status === 'ERROR' && f.message.includes('ssm:GetServiceSetting'),
    );

  it.each(['HTTP 500', 'ECONNREFUSED', 'timed out after 5 s', 'deadline exceeded'])(
    'a failed call (%s) is a failure to retry, not a permission to grant',
    (error) => {
      const findings = errorsOf(withCall('error', error));
      expect(findings.length).toBeGreaterThan(0);
      for (const f of findings) {
        expect(f.reason).toBe('API_CALL_FAILED');
        expect(f.message).toContain(`ssm:GetServiceSetting failed (${error})`);
        expect(f.remediation).toMatch(
          /^Retry the audit; if ssm:GetServiceSetting keeps failing, check the network path to the ssm endpoint/,
        );
        expect(f.remediation).not.toMatch(/Allow|principal|grant/i);
      }
    },
  );

  it('a denied call names the permission to grant', () => {
    const findings = errorsOf(withCall('denied', 'AccessDeniedException'));
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      expect(f.reason).toBe('API_CALL_DENIED');
      expect(f.message).toContain('ssm:GetServiceSetting was denied (AccessDeniedException)');
      expect(f.remediation).toBe(
        "Allow ssm:GetServiceSetting for the auditor's IAM principal, then re-run the audit.",
      );
    }
  });
});
