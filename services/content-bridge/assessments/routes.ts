/**
 * Assessments (issue 4 §2): instructors and admins define them; any signed-in user starts attempts
 * within `attempts_allowed` once the prerequisites are met, submits once before the deadline (plus a
 * grace of SUBMIT_GRACE_SECONDS) and reads their results; instructors and admins grade the
 * short_answer/essay questions by hand. A final result (all questions graded) emits an
 * `assessment_complete` learning event and updates course progress (see events.ts). The flows live
 * in service.ts.
 *
 * Who sees correct answers: instructors and admins, in the definition and in results. Students see
 * neither the correct answers of the definition nor those of their results, only whether each
 * answer was correct and the points it earned.
 */
import { z } from 'zod';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { SUBMIT_GRACE_SECONDS, assessmentInputSchema, assessmentOut, gradeBody, resultOut, startOut, submitBody } from './model.ts';
import { assessmentService, type AssessmentServiceOptions } from './service.ts';

const isStaff = (p: Principal | undefined) => Boolean(p?.roles.some((r) => r === 'instructor' || r === 'admin'));

export type AssessmentRouteOptions = AssessmentServiceOptions;

export function assessmentRoutes(app: AppContext, opts: AssessmentRouteOptions = {}): RouteSpec[] {
  const service = assessmentService(app, opts);

  return [
    route({
      method: 'post',
      path: '/api/assessments',
      summary: 'Create an assessment (passing_score is a percentage 0..100 of the total points)',
      tags: ['assessments'],
      access: ['instructor', 'admin'],
      body: assessmentInputSchema,
      responses: { 201: { description: 'The assessment, with correct answers', schema: assessmentOut } },
      async handler({ ctx, body, principal }) {
        const assessment = await service.create(body, principal!.userId);
        ctx.status = 201;
        ctx.set('Location', `/api/assessments/${assessment.assessment_id}`);
        ctx.body = assessment;
      },
    }),
    route({
      method: 'get',
      path: '/api/assessments/{assessment_id}',
      summary: 'One assessment; correct answers only for instructors and admins',
      tags: ['assessments'],
      access: 'authenticated',
      params: z.strictObject({ assessment_id: z.uuid() }),
      responses: { 200: { description: 'The assessment', schema: assessmentOut } },
      async handler({ ctx, params, principal }) {
        ctx.body = await service.read(params.assessment_id, { userId: principal!.userId, isStaff: isStaff(principal) });
      },
    }),
    route({
      method: 'post',
      path: '/api/assessments/{assessment_id}/start',
      summary: 'Start an attempt (409 when no attempts are left or prerequisites are not met)',
      tags: ['assessments'],
      access: 'authenticated',
      params: z.strictObject({ assessment_id: z.uuid() }),
      responses: { 201: { description: 'The new attempt', schema: startOut } },
      async handler({ ctx, params, principal }) {
        const started = await service.start(params.assessment_id, principal!.userId);
        ctx.status = 201;
        ctx.body = started;
      },
    }),
    route({
      method: 'post',
      path: '/api/assessments/submit',
      summary: `Submit an attempt once (its owner only, up to ${SUBMIT_GRACE_SECONDS} s after the deadline); objective questions are graded at once`,
      tags: ['assessments'],
      access: 'authenticated',
      body: submitBody,
      responses: { 200: { description: 'The result (pending_manual_grading when short_answer/essay answers wait)', schema: resultOut } },
      async handler({ ctx, body, principal }) {
        ctx.body = await service.submit(body, principal!.userId);
      },
    }),
    route({
      method: 'get',
      path: '/api/assessments/results/{attempt_id}',
      summary: 'Results of an attempt: its owner, or an instructor or admin (who also see the correct answers)',
      tags: ['assessments'],
      access: 'authenticated',
      params: z.strictObject({ attempt_id: z.uuid() }),
      responses: { 200: { description: 'The result', schema: resultOut } },
      async handler({ ctx, params, principal }) {
        ctx.body = await service.result(params.attempt_id, { userId: principal!.userId, isStaff: isStaff(principal) });
      },
    }),
    route({
      method: 'post',
      path: '/api/assessments/grade',
      summary: 'Grade short_answer/essay answers of a submitted attempt; the result becomes final when none is left ungraded',
      tags: ['assessments'],
      access: ['instructor', 'admin'],
      body: gradeBody,
      responses: { 200: { description: 'The result after grading', schema: resultOut } },
      async handler({ ctx, body, principal }) {
        ctx.body = await service.grade(body, principal!.userId);
      },
    }),
  ];
}
