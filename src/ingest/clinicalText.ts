// What the free text of a clinical record (medical history, family history, treatment) may not
// carry: it is published with the individual as written, and the API only asked submitters for
// "free text without identifiers". A full date, the patient's own local ID, a record number, an
// e-mail address or a telephone number in it would survive de-identification untouched (Safe
// Harbor, 45 CFR 164.514(b)(2): every element of a date but the year, and those numbers, are
// identifiers). Such text is refused with the kind of identifier found, never the value, and the
// submitter writes "in 2019" for "on 2019-03-04".
//
// Names cannot be told from clinical words by pattern; the patient's name is read only inside the
// ingest workers (it never reaches the main thread), so names are not looked for here.

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

/** [what, pattern]: each found anywhere in the text (case-insensitive), outside letters and digits around it. */
const IDENTIFIERS: [string, RegExp][] = [
  ['a date with its month', new RegExp([
    // 2019-03-04, 2019/3/4, 2019.03, 20190304
    String.raw`(?<![\w.])(?:18|19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])(?:[-/.](?:0?[1-9]|[12]\d|3[01]))?(?![\w.]|[-/.]\d)`,
    String.raw`(?<![\w.])(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![\w.])`,
    // 04/03/2019, 4.3.19, 03/2019
    String.raw`(?<![\w.])(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:\d{2}|\d{4})(?![\w.])`,
    String.raw`(?<![\w./-])(?:0?[1-9]|1[0-2])[-/.](?:18|19|20)\d{2}(?![\w./-])`,
    // 4 March 2019, March 4, 2019, Mar 2019, 4th of March
    String.raw`\b(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH}\b`,
    String.raw`\b${MONTH}\.?\s+(?:(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\b|(?:18|19|20)\d{2}\b)`,
  ].join('|'), 'i')],
  ['an e-mail address', /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/i],
  ['a record or identity number', /\b(?:mrn|medical\s+record|record\s+(?:no|number)|patient\s+(?:id|no|number)|ssn|social\s+security|nhs\s+(?:no|number)|hospital\s+(?:no|number))\b/i],
  ['a social security number', /(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])/],
  ['a telephone number', /(?<![\w])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w])/],
  ['a long number', /(?<![\w.,])\d{7,}(?![\w.,]*\d)/],
];

/**
 * What kind of identifier the text carries, or null. `patientId` is the record's own local
 * patient ID: its appearance in the text (as a word) is an identifier whatever it looks like.
 */
export function identifierIn(text: string | null | undefined, patientId: string): string | null {
  if (!text) return null;
  const id = patientId.trim();
  if (id.length >= 3) {
    const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text)) return 'the patient\'s own ID';
  }
  for (const [what, pattern] of IDENTIFIERS) if (pattern.test(text)) return what;
  return null;
}
