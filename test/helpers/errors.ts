/**
 * The one check that a call was refused as bad input: InvalidOptionError (a ProcprobeError) with
 * code ERR_PROCPROBE_INVALID_OPTION, naming the option in .option and in the message, and, where
 * the test passes `shown`, ending the message with "got <shown>".
 */
import { expect } from 'vitest';
import { InvalidOptionError, ProcprobeError } from '../../dist/index.js';
import { thrown } from './readers.js';

export function expectInvalidOption(fn: () => unknown, option: string, shown?: string): InvalidOptionError {
  const err = thrown<InvalidOptionError>(fn);
  expect(err, `expected InvalidOptionError for ${option}`).toBeInstanceOf(InvalidOptionError);
  expect(err).toBeInstanceOf(ProcprobeError);
  expect(err.code).toBe('ERR_PROCPROBE_INVALID_OPTION');
  expect(err.option).toBe(option);
  expect(err.message).toContain(option);
  if (shown !== undefined) expect(err.message).toMatch(new RegExp(`got ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  return err;
}
