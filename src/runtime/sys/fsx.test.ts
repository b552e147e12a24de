import fs from 'node:fs';
import { decodeDev, encodeDev } from './fsx';

describe('dev_t', () => {
  it.each([
    [1, 3],
    [5, 2],
    [259, 65536],
    [4095, 1048575],
  ])('decodes %i:%i as encodeDev encoded it', (major, minor) => {
    expect(decodeDev(encodeDev(major, minor))).toEqual({ major, minor });
  });

  it('reads /dev/null as 1:3 from what stat reports', () => {
    expect(decodeDev(fs.statSync('/dev/null').rdev)).toEqual({ major: 1, minor: 3 });
  });
});
