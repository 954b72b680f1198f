/**
 * Learning progress. A user records their own progress per content item; both numbers are the
 * client's cumulative totals and never go backwards (a lower report is ignored, the row keeps the
 * maximum), and `completed_at` is set once, when progress first reaches 100. Completing an item
 * whose prerequisites are not all completed is refused (409, `missing_prerequisites`).
 */
import { ProblemError, problem } from '../../kit/http/problem.ts';
import type { Principal } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { contentRepository } from '../content/repository.ts';
import { toProgress } from './model.ts';
import { progressRepository } from './repository.ts';

export function progressService(app: AppContext) {
  const { db } = app.deps;
  const repo = progressRepository(db);
  const content = contentRepository(db);

  return {
    async record(userId: string, contentId: string, progress: { progress_percentage: number; time_spent_minutes?: number | undefined }) {
      const item = await content.find(contentId);
      if (!item) throw problem.notFound('No such content');
      if (progress.progress_percentage >= 100) {
        const existing = await repo.find(userId, item.id);
        if (!existing?.completed_at) {
          const missing = await repo.missingPrerequisites(userId, item.id);
          if (missing.length) {
            throw new ProblemError({
              status: 409,
              title: 'Prerequisites Not Completed',
              detail: `Complete ${missing.length} prerequisite item(s) first`,
              extensions: {
                missing_prerequisites: missing.map((m) => m.content_id),
                missing_prerequisite_titles: missing.map((m) => m.title),
              },
            });
          }
        }
      }
      const row = await repo.record(userId, item.id, item.course_id, progress.progress_percentage, progress.time_spent_minutes ?? 0);
      return toProgress(row);
    },

    /** Every item and a roll-up per course; for the user themself, an instructor or an admin. */
    async ofUser(principal: Principal, userId: string) {
      const self = principal.userId === userId;
      if (!self && !principal.roles.some((r) => r === 'instructor' || r === 'admin')) {
        throw problem.forbidden("Only the user, an instructor or an admin may read a user's progress");
      }
      if (!self && !(await app.users.findById(userId))) throw problem.notFound('No such user');
      const [items, courses] = await Promise.all([repo.items(userId), repo.rollup(userId)]);
      return {
        user_id: userId,
        items: items.map((r) => ({ ...toProgress(r), title: r.title, type: r.content_type })),
        courses: courses.map((c) => ({
          ...c,
          percent_complete: c.total_items ? Math.round((c.completed_items / c.total_items) * 10_000) / 100 : 0,
        })),
        totals: {
          started_items: items.length,
          completed_items: items.filter((i) => i.completed_at !== null).length,
          time_spent_minutes: items.reduce((sum, i) => sum + i.time_spent_minutes, 0),
        },
      };
    },
  };
}
