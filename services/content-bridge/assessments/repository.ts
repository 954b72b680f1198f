/** SQL for assessments and attempts. Every query is parameterised. */
import type { Queryable } from '../../kit/deps/database.ts';
import type { QuestionResult, SubmittedAnswer } from './grading.ts';
import { SUBMIT_GRACE_SECONDS, type AssessmentType, type StoredQuestion } from './model.ts';

export interface AssessmentRow {
  id: string;
  title: string;
  assessment_type: AssessmentType;
  questions: StoredQuestion[];
  total_points: string; // numeric arrives as a string
  time_limit_minutes: number | null;
  passing_score: string;
  attempts_allowed: number | null;
  course_id: string | null;
  difficulty_level: string | null;
  prerequisites: string[];
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export type AttemptStatus = 'started' | 'submitted' | 'graded';

export interface AttemptRow {
  id: string;
  assessment_id: string;
  user_id: string;
  attempt_number: number;
  status: AttemptStatus;
  started_at: Date;
  deadline: Date | null;
  submitted_at: Date | null;
  answers: SubmittedAnswer[] | null;
  results: QuestionResult[] | null;
  auto_score: string | null;
  final_score: string | null;
  max_score: string;
  score_percent: string | null;
  passed: boolean | null;
  graded_at: Date | null;
  graded_by: string | null;
  /** Computed: the deadline (plus grace) has passed and the attempt was never submitted. */
  expired: boolean;
}

export interface MissingPrerequisite {
  id: string;
  kind: 'content' | 'assessment';
  title: string;
}

const ASSESSMENT_COLUMNS =
  'id, title, assessment_type, questions, total_points, time_limit_minutes, passing_score, attempts_allowed, course_id, difficulty_level, prerequisites, created_by, created_at, updated_at';

const attemptColumns = (a = 'a') =>
  `${a}.id, ${a}.assessment_id, ${a}.user_id, ${a}.attempt_number, ${a}.status, ${a}.started_at, ${a}.deadline, ${a}.submitted_at, ${a}.answers, ${a}.results,
   ${a}.auto_score, ${a}.final_score, ${a}.max_score, ${a}.score_percent, ${a}.passed, ${a}.graded_at, ${a}.graded_by,
   (${a}.submitted_at IS NULL AND ${a}.deadline IS NOT NULL AND now() > ${a}.deadline + make_interval(secs => ${SUBMIT_GRACE_SECONDS})) AS expired`;

export interface NewAssessment {
  title: string;
  type: AssessmentType;
  questions: StoredQuestion[];
  totalPoints: number;
  timeLimitMinutes: number | null;
  passingScore: number;
  attemptsAllowed: number | null;
  courseId: string | null;
  difficultyLevel: string | null;
  prerequisites: string[];
  createdBy: string;
}

export function assessmentsRepository(db: Queryable) {
  return {
    async create(a: NewAssessment, tx: Queryable = db): Promise<AssessmentRow> {
      const { rows } = await tx.query<AssessmentRow>(
        `INSERT INTO content.assessments (title, assessment_type, questions, total_points, time_limit_minutes, passing_score, attempts_allowed,
                                          course_id, difficulty_level, prerequisites, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING ${ASSESSMENT_COLUMNS}`,
        [
          a.title,
          a.type,
          JSON.stringify(a.questions),
          a.totalPoints,
          a.timeLimitMinutes,
          a.passingScore,
          a.attemptsAllowed,
          a.courseId,
          a.difficultyLevel,
          JSON.stringify(a.prerequisites),
          a.createdBy,
        ],
      );
      return rows[0]!;
    },

    async find(id: string, tx: Queryable = db): Promise<AssessmentRow | undefined> {
      const { rows } = await tx.query<AssessmentRow>(`SELECT ${ASSESSMENT_COLUMNS} FROM content.assessments WHERE id = $1`, [id]);
      return rows[0];
    },

    async courseExists(id: string): Promise<boolean> {
      const { rowCount } = await db.query('SELECT 1 FROM content.courses WHERE id = $1', [id]);
      return rowCount > 0;
    },

    /** Which of `ids` are content items and which are assessments; the rest do not exist. */
    async classify(ids: string[]): Promise<Map<string, 'content' | 'assessment'>> {
      if (!ids.length) return new Map();
      const { rows } = await db.query<{ id: string; kind: 'content' | 'assessment' }>(
        `SELECT id::text, 'content' AS kind FROM content.content_items WHERE id = ANY($1::uuid[])
         UNION ALL
         SELECT id::text, 'assessment' AS kind FROM content.assessments WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.kind]));
    },

    /**
     * Prerequisites `userId` has not met: content items not completed (`completed_at` in
     * content.user_progress) and assessments never passed. Ids that no longer exist are skipped.
     */
    async missingPrerequisites(userId: string, prerequisites: string[], tx: Queryable = db): Promise<MissingPrerequisite[]> {
      if (!prerequisites.length) return [];
      const { rows } = await tx.query<MissingPrerequisite>(
        `SELECT p.id, p.kind, p.title FROM (
           SELECT ci.id::text AS id, 'content' AS kind, ci.title, array_position($2::uuid[], ci.id) AS ord
             FROM content.content_items ci
            WHERE ci.id = ANY($2::uuid[])
              AND NOT EXISTS (SELECT 1 FROM content.user_progress up WHERE up.user_id = $1 AND up.content_id = ci.id AND up.completed_at IS NOT NULL)
           UNION ALL
           SELECT s.id::text, 'assessment', s.title, array_position($2::uuid[], s.id)
             FROM content.assessments s
            WHERE s.id = ANY($2::uuid[])
              AND NOT EXISTS (SELECT 1 FROM content.assessment_attempts t WHERE t.user_id = $1 AND t.assessment_id = s.id AND t.passed)
         ) p ORDER BY p.ord`,
        [userId, prerequisites],
      );
      return rows;
    },

    /**
     * Serialises starts of one (user, assessment) pair for the rest of the transaction: two
     * concurrent starts cannot both count the same number of used attempts.
     */
    async lockAttempts(tx: Queryable, userId: string, assessmentId: string): Promise<void> {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('assessment-attempts:' || $1::text || ':' || $2::text, 0))`, [
        assessmentId,
        userId,
      ]);
    },

    async countAttempts(userId: string, assessmentId: string, tx: Queryable = db): Promise<number> {
      const { rows } = await tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM content.assessment_attempts WHERE user_id = $1 AND assessment_id = $2',
        [userId, assessmentId],
      );
      return rows[0]?.n ?? 0;
    },

    async startAttempt(
      tx: Queryable,
      input: { assessmentId: string; userId: string; attemptNumber: number; timeLimitMinutes: number | null; maxScore: number },
    ): Promise<AttemptRow> {
      const { rows } = await tx.query<AttemptRow>(
        `INSERT INTO content.assessment_attempts AS a (assessment_id, user_id, attempt_number, started_at, deadline, max_score)
         VALUES ($1, $2, $3, now(), CASE WHEN $4::int IS NULL THEN NULL ELSE now() + make_interval(mins => $4::int) END, $5)
         RETURNING ${attemptColumns()}`,
        [input.assessmentId, input.userId, input.attemptNumber, input.timeLimitMinutes, input.maxScore],
      );
      return rows[0]!;
    },

    async findAttempt(id: string, tx: Queryable = db, opts: { forUpdate?: boolean } = {}): Promise<AttemptRow | undefined> {
      const { rows } = await tx.query<AttemptRow>(
        `SELECT ${attemptColumns()} FROM content.assessment_attempts a WHERE a.id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
        [id],
      );
      return rows[0];
    },

    /**
     * The submission gate: one UPDATE that only an open, in-time attempt of `userId` passes. Of any
     * number of concurrent submits exactly one gets the row; the others wait for its transaction and
     * then find `submitted_at` set.
     */
    async claimSubmission(tx: Queryable, attemptId: string, userId: string): Promise<AttemptRow | undefined> {
      const { rows } = await tx.query<AttemptRow>(
        `UPDATE content.assessment_attempts a SET submitted_at = now(), status = 'submitted'
          WHERE a.id = $1 AND a.user_id = $2 AND a.submitted_at IS NULL
            AND (a.deadline IS NULL OR now() <= a.deadline + make_interval(secs => ${SUBMIT_GRACE_SECONDS}))
          RETURNING ${attemptColumns()}`,
        [attemptId, userId],
      );
      return rows[0];
    },

    async saveResults(
      tx: Queryable,
      attemptId: string,
      r: {
        answers?: SubmittedAnswer[];
        results: QuestionResult[];
        autoScore?: number;
        final: { points: number; percent: number; passed: boolean; gradedBy: string | null } | null;
      },
    ): Promise<AttemptRow> {
      const { rows } = await tx.query<AttemptRow>(
        `UPDATE content.assessment_attempts a SET
           answers = coalesce($2::jsonb, a.answers),
           results = $3::jsonb,
           auto_score = coalesce($4::numeric, a.auto_score),
           final_score = $5::numeric,
           score_percent = $6::numeric,
           passed = $7::boolean,
           status = CASE WHEN $7::boolean IS NULL THEN 'submitted' ELSE 'graded' END,
           graded_at = CASE WHEN $7::boolean IS NULL THEN NULL ELSE now() END,
           graded_by = $8::uuid
         WHERE a.id = $1
         RETURNING ${attemptColumns()}`,
        [
          attemptId,
          r.answers ? JSON.stringify(r.answers) : null,
          JSON.stringify(r.results),
          r.autoScore ?? null,
          r.final?.points ?? null,
          r.final?.percent ?? null,
          r.final?.passed ?? null,
          r.final?.gradedBy ?? null,
        ],
      );
      return rows[0]!;
    },

    async saveGrades(
      tx: Queryable,
      attemptId: string,
      grades: Array<{ question_id: string; points: number; feedback?: string | undefined }>,
      by: string,
    ) {
      await tx.query(
        `INSERT INTO content.assessment_grades (attempt_id, question_id, points, feedback, graded_by)
         SELECT $1, g.question_id, g.points, coalesce(g.feedback, ''), $3
           FROM jsonb_to_recordset($2::jsonb) AS g(question_id text, points numeric, feedback text)
         ON CONFLICT (attempt_id, question_id) DO UPDATE SET
           points = EXCLUDED.points, feedback = EXCLUDED.feedback, graded_by = EXCLUDED.graded_by, graded_at = now()`,
        [attemptId, JSON.stringify(grades), by],
      );
    },
  };
}

export type AssessmentsRepository = ReturnType<typeof assessmentsRepository>;
