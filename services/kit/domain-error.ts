/**
 * Failures of a domain flow (a capability's service.ts), stated without HTTP: what went wrong, not
 * which status answers it. The error middleware renders each as a problem (kit/http/errors.ts), with
 * the status its failure maps to.
 */
import type { FieldError } from './http/problem.ts';

export type Failure = 'invalid' | 'not-found' | 'forbidden' | 'conflict' | 'stale' | 'too-large';

export interface DomainErrorDetails {
  /** Which fields of the request are wrong (with `invalid`). */
  errors?: FieldError[];
  /** A short name of the failure when it is more specific than its kind, e.g. 'Deadline Passed'. */
  title?: string;
  /** Extra members for the client, e.g. `missing_prerequisites`. */
  extensions?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly failure: Failure;
  readonly details: DomainErrorDetails;

  constructor(failure: Failure, message: string, details: DomainErrorDetails = {}) {
    super(message);
    this.failure = failure;
    this.details = details;
  }
}

export const domain = {
  /** The input breaks a rule: a field is wrong, or refers to something that does not exist. */
  invalid: (message: string, errors?: FieldError[]) => new DomainError('invalid', message, { errors }),
  notFound: (message: string) => new DomainError('not-found', message),
  forbidden: (message: string) => new DomainError('forbidden', message),
  /** The request cannot be carried out in the current state. */
  conflict: (message: string, details?: Omit<DomainErrorDetails, 'errors'>) => new DomainError('conflict', message, details),
  /** The caller's copy is out of date (a version precondition failed). */
  stale: (message: string) => new DomainError('stale', message),
  tooLarge: (message: string) => new DomainError('too-large', message),
};
