/**
 * Inbound webhooks from the curriculum and user-management modules. Each delivery is
 * authenticated, signature-checked, rate-limited per module, idempotent per
 * (event_type, id, timestamp), and written to the audit log whatever its outcome.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { readBody } from '../../kit/http/body.ts';
import { problem } from '../../kit/http/problem.ts';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import { toProblem } from '../../kit/http/errors.ts';
import { findUnstorableText } from '../../kit/http/storable-text.ts';
import type { Queryable } from '../../kit/deps/database.ts';
import type { AppContext } from '../context.ts';
import { profileSchema, roleSchema, usernameSchema } from '../users/model.ts';
import type { ModuleName } from './config.ts';
import { identifyService, loadServiceTokens, verifySignature } from './service-auth.ts';

const contentEvent = z.strictObject({
  event_type: z.enum(['content_created', 'content_updated', 'content_deleted']),
  content_id: z.string().min(1).max(255),
  course_id: z.string().min(1).max(255).optional(),
  timestamp: z.iso.datetime({ offset: true }),
  changes: z
    .strictObject({
      title: z.string().min(1).max(255).optional(),
      description: z.string().max(10_000).optional(),
      type: z.enum(['video', 'document', 'interactive', 'assessment']).optional(),
      sequence_number: z.number().int().min(0).optional(),
      prerequisites: z.array(z.string().max(255)).max(100).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      course_title: z.string().min(1).max(255).optional(),
    })
    .default({}),
});

const userEvent = z.strictObject({
  event_type: z.enum(['user_created', 'user_updated', 'user_deleted', 'role_changed']),
  user_id: z.string().min(1).max(255),
  timestamp: z.iso.datetime({ offset: true }),
  changes: z
    .strictObject({
      username: usernameSchema.optional(),
      email: z.email().max(254).optional(),
      profile: profileSchema.optional(),
      roles: z.array(roleSchema).min(1).max(3).optional(),
    })
    .default({}),
});

const SERVICE_RULE = { name: 'service', limit: 600, windowSeconds: 60 };

async function courseIdFor(tx: Queryable, externalCourseId: string | undefined, title: string | undefined): Promise<string | null> {
  if (!externalCourseId) return null;
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO content.courses (external_course_id, title, sync_status, last_synced) VALUES ($1, $2, 'synced', now())
     ON CONFLICT (external_course_id) DO UPDATE SET last_synced = now() RETURNING id`,
    [externalCourseId, title ?? externalCourseId],
  );
  return rows[0]!.id;
}

async function applyContentEvent(app: AppContext, tx: Queryable, event: z.infer<typeof contentEvent>): Promise<string | undefined> {
  const c = event.changes;
  if (event.event_type === 'content_deleted') {
    const { rows } = await tx.query<{ file_path: string | null }>(
      'DELETE FROM content.content_items WHERE external_content_id = $1 RETURNING file_path',
      [event.content_id],
    );
    return rows[0]?.file_path ?? undefined; // the object is removed after commit
  }
  const courseId = await courseIdFor(tx, event.course_id, c.course_title);
  await tx.query(
    `INSERT INTO content.content_items
       (external_content_id, course_id, title, description, content_type, sequence_number, prerequisites, metadata, status, sync_status)
     VALUES ($1, $2, coalesce($3, 'Untitled'), coalesce($4, ''), coalesce($5, 'document'), $6, coalesce($7::jsonb, '[]'::jsonb), coalesce($8::jsonb, '{}'::jsonb), 'published', 'synced')
     ON CONFLICT (external_content_id) DO UPDATE SET
       course_id = coalesce(EXCLUDED.course_id, content.content_items.course_id),
       title = coalesce($3, content.content_items.title),
       description = coalesce($4, content.content_items.description),
       content_type = coalesce($5, content.content_items.content_type),
       sequence_number = coalesce($6, content.content_items.sequence_number),
       prerequisites = coalesce($7::jsonb, content.content_items.prerequisites),
       metadata = content.content_items.metadata || coalesce($8::jsonb, '{}'::jsonb),
       version = content.content_items.version + 1,
       sync_status = 'synced',
       updated_at = now()`,
    [
      event.content_id,
      courseId,
      c.title ?? null,
      c.description ?? null,
      c.type ?? null,
      c.sequence_number ?? null,
      c.prerequisites ? JSON.stringify(c.prerequisites) : null,
      c.metadata ? JSON.stringify(c.metadata) : null,
    ],
  );
  return undefined;
}

async function applyUserEvent(app: AppContext, tx: Queryable, event: z.infer<typeof userEvent>): Promise<void> {
  const c = event.changes;
  if (event.event_type === 'user_deleted') {
    const { rows } = await tx.query<{ id: string }>('DELETE FROM users.users WHERE external_user_id = $1 RETURNING id', [event.user_id]);
    for (const row of rows) app.users.forget(row.id);
    return;
  }
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM users.users WHERE external_user_id = $1', [event.user_id]);
  if (!rows[0]) {
    if (!c.username || !c.email) throw problem.unprocessable('An unknown user needs changes.username and changes.email to be created');
    const created = await tx.query(
      `INSERT INTO users.users (external_user_id, username, email, profile_data, roles, sync_status, last_synced)
       VALUES ($1, $2, $3, $4, $5, 'synced', now()) ON CONFLICT DO NOTHING RETURNING id`,
      [event.user_id, c.username, c.email, JSON.stringify(c.profile ?? {}), JSON.stringify(c.roles ?? ['student'])],
    );
    if (created.rowCount === 0) throw problem.conflict('A local user already has that username or email');
    return;
  }
  await tx.query(
    `UPDATE users.users SET
       profile_data = profile_data || coalesce($2::jsonb, '{}'::jsonb),
       email = coalesce($3, email),
       roles = coalesce($4::jsonb, roles),
       sync_status = 'synced', last_synced = now(), updated_at = now()
     WHERE id = $1`,
    [rows[0].id, c.profile ? JSON.stringify(c.profile) : null, c.email ?? null, c.roles ? JSON.stringify(c.roles) : null],
  );
  app.users.forget(rows[0].id);
}

export function webhookRoutes(app: AppContext): RouteSpec[] {
  const tokens = loadServiceTokens(app.config.HMA_SERVICE_TOKENS, app.config.HMA_SERVICE_TOKENS_DIR, app.config);
  const audit = (source: string, endpoint: string, status: number, detail: string | undefined) =>
    app.deps.db
      .query('INSERT INTO integrations.audit_log (source_service, endpoint, outcome, status_code, detail) VALUES ($1, $2, $3, $4, $5)', [
        source,
        endpoint,
        status < 300 ? 'accepted' : status < 500 ? 'rejected' : 'failed',
        status,
        detail ?? null,
      ])
      .catch((err) => app.logger.warn({ err }, 'could not write the audit log'));

  const handle = <S extends z.ZodType>(
    allowed: ModuleName[],
    schema: S,
    apply: (tx: Queryable, event: z.infer<S>) => Promise<string | undefined>,
  ) =>
    async function handler({ ctx }: { ctx: Context }) {
      let source = 'unknown';
      try {
        const caller = identifyService(ctx, tokens);
        source = caller.module;
        if (!allowed.includes(caller.module)) throw problem.forbidden(`The ${caller.module} module may not call this endpoint`);
        await app.rateLimit([SERVICE_RULE, caller.module]);
        const raw = await readBody(ctx, app.config.MAX_JSON_BODY_BYTES);
        verifySignature(ctx, caller.token, raw, app.config.HMA_WEBHOOK_REPLAY_WINDOW_SECONDS);
        let json: unknown;
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          throw problem.badRequest('Malformed JSON');
        }
        const unstorable = findUnstorableText(json, 'body');
        if (unstorable) throw problem.unprocessable('The event is invalid', [unstorable]);
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
          throw problem.unprocessable(
            'The event is invalid',
            parsed.error.issues.map((i) => ({ location: ['body', ...i.path.map(String)].join('.'), message: i.message })),
          );
        }
        const event = parsed.data as z.infer<S> & { event_type: string; timestamp: string; content_id?: string; user_id?: string };
        const outcome = await app.deps.db.transaction(async (tx) => {
          const fresh = await tx.query(
            `INSERT INTO integrations.webhook_deliveries (event_type, subject_id, event_timestamp, source_service)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
            [event.event_type, event.content_id ?? event.user_id, event.timestamp, caller.module],
          );
          if (fresh.rowCount === 0) return { duplicate: true, orphan: undefined };
          return { duplicate: false, orphan: await apply(tx, event) };
        });
        if (outcome.orphan) await app.deps.store.remove(outcome.orphan).catch((err) => app.logger.warn({ err }, 'object removal failed'));
        ctx.body = { status: outcome.duplicate ? 'duplicate' : 'applied', event_type: event.event_type };
        await audit(source, ctx.path, 200, outcome.duplicate ? 'duplicate delivery' : event.event_type);
      } catch (err) {
        await audit(source, ctx.path, toProblem(err).status, (err as Error).message);
        throw err;
      }
    };

  return [
    route({
      method: 'post',
      path: '/api/webhooks/curriculum/content-updated',
      summary: 'Content created, updated or deleted in the curriculum module (service token + HMAC signature)',
      tags: ['webhooks'],
      access: 'public',
      headers: ['X-Service-Token', 'X-HMA-Timestamp', 'X-HMA-Signature'],
      body: { stream: 'application/json', description: 'A content event: {event_type, content_id, course_id?, timestamp, changes}' },
      responses: { 200: { description: 'Applied, or a duplicate delivery' } },
      handler: handle(['curriculum'], contentEvent, (tx, e) => applyContentEvent(app, tx, e)),
    }),
    route({
      method: 'post',
      path: '/api/webhooks/users/profile-updated',
      summary: 'A user created, updated, deleted or re-roled in the user-management module (service token + HMAC signature)',
      tags: ['webhooks'],
      access: 'public',
      headers: ['X-Service-Token', 'X-HMA-Timestamp', 'X-HMA-Signature'],
      body: { stream: 'application/json', description: 'A user event: {event_type, user_id, timestamp, changes}' },
      responses: { 200: { description: 'Applied, or a duplicate delivery' } },
      handler: handle(['user-management'], userEvent, async (tx, e) => {
        await applyUserEvent(app, tx, e);
        return undefined;
      }),
    }),
  ];
}
