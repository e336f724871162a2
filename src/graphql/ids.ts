import { BadUserInputError } from '../errors.js';

/**
 * Reads an `ID!` argument that names a row (a submission, a file): the numeric string form
 * (`"12"`) or an Int literal. Anything else is BAD_USER_INPUT, naming the argument and never
 * echoing the value (it may be a megabyte long).
 */
export function rowId(value: string | number, argument: string): number {
  const text = String(value);
  if (!/^[1-9][0-9]{0,14}$/.test(text)) throw new BadUserInputError(`"${argument}" is not an id of this archive.`, argument);
  return Number(text);
}
