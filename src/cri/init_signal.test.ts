import { droppedByInitStatus } from './init_signal';

const status = (nspid: string, sigCgt: string) => `Name:\ttop\nNSpid:\t${nspid}\nSigCgt:\t${sigCgt}\n`;
const SIGTERM = 15;

describe('droppedByInitStatus', () => {
  test("a namespace's init without a SIGTERM handler drops SIGTERM", () => {
    expect(droppedByInitStatus(status('4242\t1', '0000000000000000'), SIGTERM)).toBe(true);
  });

  test('an init with the handler installed gets it', () => {
    expect(droppedByInitStatus(status('4242\t1', '0000000000004000'), SIGTERM)).toBe(false);
  });

  test('a process that is not its namespace init gets the default action, so nothing is dropped', () => {
    expect(droppedByInitStatus(status('4242\t7', '0000000000000000'), SIGTERM)).toBe(false);
    expect(droppedByInitStatus(status('4242', '0000000000000000'), SIGTERM)).toBe(false);
  });
});
