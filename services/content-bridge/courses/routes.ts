/**
 * Courses over HTTP: instructors and admins write, any signed-in user reads. The rules (replace
 * semantics of the item list, prerequisites within the course and acyclic) are in service.ts.
 */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { courseIdParams, courseSchema, courseSummarySchema, createBody, updateBody } from './model.ts';
import { coursesService } from './service.ts';

export function courseRoutes(app: AppContext): RouteSpec[] {
  const courses = coursesService(app);
  return [
    route({
      method: 'get',
      path: '/api/courses',
      summary: 'All courses, oldest first, with keyset pagination',
      tags: ['courses'],
      access: 'authenticated',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(500).optional() }),
      responses: {
        200: {
          description: 'A page of courses',
          schema: z.object({ courses: z.array(courseSummarySchema), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ ctx, query }) {
        ctx.body = await courses.list(query.limit, query.cursor);
      },
    }),
    route({
      method: 'post',
      path: '/api/courses',
      summary: 'Create a course, optionally with its ordered items and their prerequisites',
      tags: ['courses'],
      access: ['instructor', 'admin'],
      body: createBody,
      responses: { 201: { description: 'The course', schema: courseSchema } },
      async handler({ ctx, body, principal }) {
        const course = await courses.create(body, principal!.userId);
        ctx.status = 201;
        ctx.set('Location', `/api/courses/${course.course_id}`);
        ctx.body = course;
      },
    }),
    route({
      method: 'get',
      path: '/api/courses/{course_id}',
      summary: 'One course with its published items in order, with their prerequisites',
      tags: ['courses'],
      access: 'authenticated',
      params: courseIdParams,
      responses: { 200: { description: 'The course', schema: courseSchema } },
      async handler({ ctx, params }) {
        ctx.body = await courses.get(params.course_id);
      },
    }),
    route({
      method: 'put',
      path: '/api/courses/{course_id}',
      summary: 'Update course fields; `items`, when present, replaces the whole ordered item list',
      tags: ['courses'],
      access: ['instructor', 'admin'],
      params: courseIdParams,
      body: updateBody,
      responses: { 200: { description: 'The course', schema: courseSchema } },
      async handler({ ctx, params, body }) {
        ctx.body = await courses.update(params.course_id, body);
      },
    }),
    route({
      method: 'delete',
      path: '/api/courses/{course_id}',
      summary: 'Delete a course; its content items stay, detached from it',
      tags: ['courses'],
      access: ['instructor', 'admin'],
      params: courseIdParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ ctx, params }) {
        await courses.remove(params.course_id);
        ctx.status = 204;
      },
    }),
  ];
}
