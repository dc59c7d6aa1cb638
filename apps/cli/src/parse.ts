import { InvalidArgumentError } from 'commander';

/** Commander argument parser for a non-negative integer flag. */
export function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}
