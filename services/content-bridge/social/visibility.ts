/**
 * Who may see what: SQL predicates every social read is filtered by, so privacy is decided in one
 * place and inside the query (never by filtering a page after LIMIT).
 *
 * Parameter convention: every query using these fragments passes the viewer as $1 (user id), $2
 * (viewer is an admin) and $3 (viewer is staff: instructor or admin); its own parameters start at $4.
 *
 * privacy_level:
 * - public: every signed-in user.
 * - course_members: members of the item's course context (below), staff (any instructor or admin)
 *   and the author.
 * - private: the author and admins only.
 *
 * A course MEMBER is a user who has at least one content.user_progress row with that course_id (they
 * have started something in the course, including an assessment linked to it), or the course's
 * instructor (content.courses.instructor_id).
 *
 * Post moderation state on top of privacy:
 * - hidden (by a moderator): only the author, admins and the course's instructor see it.
 * - deleted: its text is already gone ('[deleted]'); forums and threads show a placeholder to those
 *   allowed by privacy, feeds leave it out.
 */

export const VIEWER_PARAMS = 3;

export interface Viewer {
  userId: string;
  isAdmin: boolean;
  isStaff: boolean;
}

export const viewerParams = (v: Viewer): unknown[] => [v.userId, v.isAdmin, v.isStaff];

/** `course` is a member of the viewer ($1). */
export const isMember = (course: string) =>
  `(EXISTS (SELECT 1 FROM content.courses vc WHERE vc.id = ${course} AND vc.instructor_id = $1::uuid)
    OR EXISTS (SELECT 1 FROM content.user_progress vp WHERE vp.user_id = $1::uuid AND vp.course_id = ${course}))`;

/** The privacy rule for an item with this author, privacy level and course context. */
export const canSee = (author: string, privacy: string, course: string) =>
  `($2::boolean OR ${author} = $1::uuid OR ${privacy} = 'public'
    OR (${privacy} = 'course_members' AND ${course} IS NOT NULL AND ($3::boolean OR ${isMember(course)})))`;

/** Admins and the course's instructor moderate a course's posts. */
export const isModerator = (course: string) =>
  `($2::boolean OR EXISTS (SELECT 1 FROM content.courses mc WHERE mc.id = ${course} AND mc.instructor_id = $1::uuid))`;

/** Privacy plus moderation for the post aliased `p` (deleted posts pass; callers decide on placeholders). */
export const postVisible = (p: string) =>
  `(${canSee(`${p}.author_id`, `${p}.privacy_level`, `${p}.course_id`)}
    AND (${p}.status <> 'hidden' OR ${p}.author_id = $1::uuid OR ${isModerator(`${p}.course_id`)}))`;

/** The interaction aliased `i` passes its own privacy rule. */
export const interactionVisible = (i: string) => canSee(`${i}.user_id`, `${i}.privacy_level`, `${i}.course_id`);
