// Validation messages in plain words, for every zod issue a schema does not word itself: the form
// under a field and the server's field errors say "Use at least 8 characters", not zod's
// "Too small: expected string to have >=8 characters". Installed once per process by importing
// this module (the server's router and the client's entry do); a schema's own message still wins.
import { type core, z } from 'zod';

const list = (values: readonly unknown[]) => values.map((value) => String(value)).join(', ');
const count = (n: number | bigint, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${Number(n) === 1 ? one : many}`;

const FORMATS: Record<string, string> = {
  email: 'Enter an email address like name@example.com',
  url: 'Enter a full address starting with https://',
  uuid: 'This is not a valid id',
  guid: 'This is not a valid id',
  datetime: 'Enter a date and time',
  date: 'Enter a date',
  time: 'Enter a time',
  regex: 'This is not in the expected format',
  starts_with: 'This is not in the expected format',
  ends_with: 'This is not in the expected format',
  includes: 'This is not in the expected format',
};

const isEmpty = (input: unknown) => input === undefined || input === null || input === '';

export function validationMessage(issue: core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (isEmpty(issue.input)) return 'This field is required';
      if (issue.expected === 'int' || issue.expected === 'bigint') return 'Enter a whole number';
      if (issue.expected === 'number') return 'Enter a number';
      if (issue.expected === 'string') return 'Enter text';
      if (issue.expected === 'boolean') return 'Choose yes or no';
      if (issue.expected === 'date') return 'Enter a date';
      if (issue.expected === 'array') return 'Choose one or more';
      return 'This value is not valid';
    }
    case 'too_small': {
      const min = issue.minimum as number | bigint;
      if (issue.origin === 'string')
        return Number(min) <= 1 ? 'This field is required' : `Use at least ${count(min, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return Number(min) <= 1 ? 'Choose at least one' : `Choose at least ${min}`;
      if (issue.origin === 'date') return 'This date is too early';
      return issue.inclusive === false ? `Must be more than ${min}` : `Must be at least ${min}`;
    }
    case 'too_big': {
      const max = issue.maximum as number | bigint;
      if (issue.origin === 'string') return `Use at most ${count(max, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `Choose at most ${max}`;
      if (issue.origin === 'date') return 'This date is too late';
      const bound = Number(max).toLocaleString('en-US');
      return issue.inclusive === false ? `Must be less than ${bound}` : `Must be at most ${bound}`;
    }
    case 'invalid_format':
      return FORMATS[issue.format] ?? 'This is not in the expected format';
    case 'not_multiple_of':
      return `Must be a multiple of ${issue.divisor}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `Must be ${String(issue.values[0])}`
        : `Choose one of: ${list(issue.values)}`;
    case 'unrecognized_keys':
      return `Not a field we know: ${list(issue.keys)}`;
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      return 'This value is not valid';
    default:
      return undefined;
  }
}

z.config({ customError: validationMessage });
