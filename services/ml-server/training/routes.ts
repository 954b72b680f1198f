/** `POST /models/{name}/train` (202 + job id) and `GET /jobs/{job_id}`: admins and instructors. */
import { z } from 'zod';
import { problem } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { MlContext } from '../context.ts';
import { pathName } from '../registry/model.ts';
import { actorId, MANAGERS } from '../auth/access.ts';
import { toJob, TRAINING_TASKS } from './jobs.ts';

const jobSchema = z.object({
  job_id: z.string(),
  model: z.string(),
  task: z.string(),
  params: z.record(z.string(), z.unknown()),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  error: z.string().nullable(),
  result_version: z.number().nullable(),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});

export function trainingRoutes(app: MlContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/models/{name}/train',
      summary: 'Train a new version in the background (completion_risk: logistic regression on learning events and progress)',
      tags: ['training'],
      access: MANAGERS,
      params: z.object({ name: pathName }),
      body: z
        .strictObject({
          task: z.enum(TRAINING_TASKS),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
        })
        .refine((b) => !b.from || !b.to || new Date(b.from) < new Date(b.to), { message: 'from must be before to', path: ['to'] }),
      responses: { 202: { description: 'Accepted', schema: z.object({ job_id: z.string(), status: z.string() }) } },
      async handler({ ctx, params, body, principal }) {
        const model = await app.registry.getModel(params.name);
        if (!model) throw problem.notFound(`No model named '${params.name}'`);
        if (model.task !== 'classification' || model.format !== 'logistic') {
          throw problem.unprocessable(
            `Task ${body.task} trains a logistic classification model, but '${model.name}' is ${model.format} ${model.task}`,
            [{ location: 'path.name', message: 'the model must have task classification and format logistic' }],
          );
        }
        const id = await app.jobs.submit(model, body.task, { from: body.from, to: body.to }, actorId(principal));
        ctx.status = 202;
        ctx.set('Location', `/jobs/${id}`);
        ctx.body = { job_id: id, status: 'queued' };
      },
    }),
    route({
      method: 'get',
      path: '/jobs/{job_id}',
      summary: 'A training job: status, error, the version it registered and its metrics',
      tags: ['training'],
      access: MANAGERS,
      params: z.object({ job_id: z.uuid() }),
      responses: { 200: { description: 'The job', schema: jobSchema } },
      async handler({ ctx, params }) {
        const job = await app.jobs.get(params.job_id);
        if (!job) throw problem.notFound(`No training job ${params.job_id}`);
        ctx.body = toJob(job);
      },
    }),
  ];
}
