// The free text an input may carry: one set of bounds, which the services enforce (on every path:
// GraphQL, the ingest CLI) and the GraphQL guard backs for the arguments that carry documents
// (src/graphql/limits.ts, LONG_TEXT). A title, a name or a note is far shorter than any of them.
import { BadUserInputError } from './errors.js';

export const TEXT_LIMITS = {
  /** A collection's title, disease and description, and its keywords (how many, and each). */
  collectionTitle: 300,
  collectionDisease: 200,
  collectionDescription: 20_000,
  keywords: 50,
  keyword: 100,
  /** An access request's purpose and scope of use, and the requester's institution. */
  accessRequestText: 5_000,
  institution: 300,
  /** A user's subject, as a delegate is named. */
  userId: 200,
} as const;

/**
 * The text trimmed, within `max` characters and (when `required`) not empty; else BAD_USER_INPUT
 * naming the argument, never echoing the value.
 */
export function boundedText(value: string | null | undefined, argument: string, max: number, required = true): string {
  const text = (value ?? '').trim();
  if (required && !text) throw new BadUserInputError(`"${argument}" must not be empty.`, argument);
  if (text.length > max) throw new BadUserInputError(`"${argument}" is longer than ${max} characters.`, argument);
  return text;
}
