/**
 * A clock override for CI when Debian's faketime is not installed: `FAKE_DATE=2031-01-01T00:00:00Z
 * NODE_OPTIONS=--require .ci/fake-date.js npx jest` runs the suite with the wall clock moved to
 * that date (and running on from there), in jest and in every child process it starts. No test may
 * depend on the wall clock; this proves it.
 */
'use strict';
const target = Date.parse(process.env.FAKE_DATE || '');
if (Number.isFinite(target)) {
  const RealDate = Date;
  const offset = target - RealDate.now();
  class FakeDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = FakeDate;
}
