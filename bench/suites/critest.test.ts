import { junitOutcome, operationMeans } from './critest';

describe('critest benchmark results', () => {
  it('averages each operation over the datapoints critest wrote, in milliseconds', () => {
    const data = {
      operationsNames: ['CreateContainer', 'StartContainer'],
      datapoints: [{ operationsDurationsNs: [2e6, 4e6] }, { operationsDurationsNs: [4e6, 8e6] }],
    };
    expect(operationMeans(data)).toEqual({ CreateContainer: 3, StartContainer: 6 });
  });

  it('counts passed and failed specs from the JUnit report, leaving skipped ones out', () => {
    const xml =
      '<testsuites><testsuite name="x" tests="75" disabled="0" skipped="70" errors="0" failures="1" time="9">' +
      '</testsuite></testsuites>';
    expect(junitOutcome(xml)).toEqual({ passed: 4, failed: 1 });
    expect(junitOutcome('')).toEqual({ passed: 0, failed: 0 });
  });
});
