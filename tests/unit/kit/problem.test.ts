import { describe, expect, it } from 'vitest';
import { ProblemError, problem } from '../../../services/kit/http/problem.ts';
import { toProblem } from '../../../services/kit/http/errors.ts';
import { domain, type DomainError } from '../../../services/kit/domain-error.ts';
import { DependencyUnavailableError, isConnectionError } from '../../../services/kit/deps/errors.ts';

describe('problem details', () => {
  it('renders the RFC 9457 members', () => {
    const p = problem.unprocessable('bad input', [{ location: 'body.x', message: 'required' }]);
    expect(p.body('/things')).toEqual({
      type: 'https://huntmaster.academy/problems/unprocessable-content',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'bad input',
      instance: '/things',
      errors: [{ location: 'body.x', message: 'required' }],
    });
  });

  it('sets Retry-After on 429 and WWW-Authenticate on 401', () => {
    expect(problem.tooManyRequests(7).headers).toEqual({ 'Retry-After': '7' });
    expect(problem.unauthorized().headers['WWW-Authenticate']).toMatch(/^Bearer/);
  });

  it('maps dependency failures to 503 and hides unexpected errors', () => {
    expect(toProblem(new DependencyUnavailableError('redis', new Error('ECONNREFUSED'))).status).toBe(503);
    const hidden = toProblem(new Error('password=hunter2 at /srv/app.ts:12'));
    expect(hidden.status).toBe(500);
    expect(JSON.stringify(hidden.body('/x'))).not.toContain('hunter2');
    expect(toProblem(Object.assign(new Error('Method Not Allowed'), { status: 405 })).status).toBe(405);
    expect(toProblem(new ProblemError({ status: 409, detail: 'dup' })).detail).toBe('dup');
  });

  it('recognises connection errors but not query errors', () => {
    expect(isConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isConnectionError(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});

describe('domain errors', () => {
  it('render as the problem their failure maps to', () => {
    const cases: Array<[DomainError, number, string]> = [
      [domain.invalid('bad', [{ location: 'body.x', message: 'required' }]), 422, 'Unprocessable Content'],
      [domain.notFound('gone'), 404, 'Not Found'],
      [domain.forbidden('no'), 403, 'Forbidden'],
      [domain.conflict('busy'), 409, 'Conflict'],
      [domain.stale('old'), 412, 'Precondition Failed'],
      [domain.tooLarge('big'), 413, 'Content Too Large'],
    ];
    for (const [err, status, title] of cases) {
      const p = toProblem(err);
      expect(p).toBeInstanceOf(ProblemError);
      expect([p.status, p.title, p.detail]).toEqual([status, title, err.message]);
    }
    expect(toProblem(cases[0]![0]).body('/x').errors).toEqual([{ location: 'body.x', message: 'required' }]);
  });

  it('keep a specific title and extra members', () => {
    const p = toProblem(
      domain.conflict('Complete 2 prerequisite(s) first', { title: 'Prerequisites Not Met', extensions: { missing: ['a'] } }),
    );
    expect(p.body('/x')).toEqual({
      type: 'https://huntmaster.academy/problems/prerequisites-not-met',
      title: 'Prerequisites Not Met',
      status: 409,
      detail: 'Complete 2 prerequisite(s) first',
      instance: '/x',
      missing: ['a'],
    });
  });
});
