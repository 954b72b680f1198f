/**
 * Social features against real PostgreSQL and Redis: forums, posts, replies, interactions, feeds,
 * moderation, and privacy on every read path. Courses, content and course membership (progress
 * rows) are created with SQL, not through the courses/content API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';

interface User {
  token: string;
  userId: string;
}

let tb: TestBridge;
let api: Client;
let admin: User;
let teacher: User; // instructor of `course`
let otherTeacher: User; // an instructor, but not of `course`
let member: User; // has progress in `course`
let member2: User; // has progress in `course`
let outsider: User; // no progress in `course`
let course: string;
let otherCourse: string;
let item: string;

const sql = <R = any>(text: string, params: unknown[] = []) => tb.deps.db.query<R>(text, params);

async function createCourse(title: string, instructorId: string | null): Promise<string> {
  const { rows } = await sql<{ id: string }>('INSERT INTO content.courses (title, instructor_id) VALUES ($1, $2) RETURNING id', [
    title,
    instructorId,
  ]);
  return rows[0]!.id;
}

async function createItem(courseId: string): Promise<string> {
  const { rows } = await sql<{ id: string }>(
    `INSERT INTO content.content_items (course_id, title, content_type, status) VALUES ($1, 'Reading', 'document', 'published') RETURNING id`,
    [courseId],
  );
  return rows[0]!.id;
}

const post = (who: User, body: Record<string, unknown>) => api.post('/api/social/posts', body, who.token);

async function postOk(who: User, body: Record<string, unknown>): Promise<any> {
  const res = await post(who, { course_id: course, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const interact = (who: User, body: Record<string, unknown>) => api.post('/api/social/interactions', body, who.token);

async function threadIds(who: User, courseId = course, qs = ''): Promise<string[]> {
  const res = await api.get(`/api/social/forums/${courseId}?limit=100${qs}`, who.token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.threads.map((t: any) => t.post_id);
}

async function feedItems(who: User, of: User): Promise<any[]> {
  const res = await api.get(`/api/social/users/${of.userId}/feed?limit=100`, who.token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
}

beforeAll(async () => {
  tb = await startTestBridge();
  api = client(tb.url);
  const login = await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password });
  admin = { token: login.body.access_token, userId: '' };
  admin.userId = (await api.get('/api/users/me', admin.token)).body.user_id;
  teacher = await signUp(api, { username: 'teacher', adminToken: admin.token, roles: ['instructor'] });
  otherTeacher = await signUp(api, { username: 'other_teacher', adminToken: admin.token, roles: ['instructor'] });
  member = await signUp(api, { username: 'member_one' });
  member2 = await signUp(api, { username: 'member_two' });
  outsider = await signUp(api, { username: 'outsider' });
  course = await createCourse('Waterfowl', teacher.userId);
  otherCourse = await createCourse('Upland birds', null);
  item = await createItem(course);
  for (const m of [member, member2]) {
    await sql('INSERT INTO content.user_progress (user_id, content_id, course_id, progress_percentage) VALUES ($1, $2, $3, 10)', [
      m.userId,
      item,
      course,
    ]);
  }
});

afterAll(() => tb?.close());

describe('posting', () => {
  it('creates a thread (course_members by default) with escaped content_html', async () => {
    const text = `<script>alert("pwned")</script> & 'decoys'`;
    const res = await post(member, { course_id: course, content: text });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('location')).toBe(`/api/social/posts/${res.body.post_id}`);
    expect(res.body).toMatchObject({
      course_id: course,
      parent_id: null,
      thread_id: res.body.post_id,
      author: { user_id: member.userId, username: 'member_one' },
      content: text,
      content_html: '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;decoys&#39;',
      privacy_level: 'course_members',
      status: 'visible',
      reply_count: 0,
      like_count: 0,
      liked_by_me: false,
    });
    const stored = await sql('SELECT content FROM social.posts WHERE id = $1', [res.body.post_id]);
    expect(stored.rows[0].content).toBe(text); // stored raw

    // Escaped on every read path too.
    const forum = await api.get(`/api/social/forums/${course}`, member2.token);
    expect(forum.headers.get('content-type')).toMatch(/^application\/json/);
    const listed = forum.body.threads.find((t: any) => t.post_id === res.body.post_id);
    expect(listed.content_html).toBe('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &#39;decoys&#39;');
    const single = await api.get(`/api/social/posts/${res.body.post_id}`, member2.token);
    expect(single.body.content_html).not.toContain('<script>');
    const feed = await feedItems(member2, member);
    const activity = feed.find((i: any) => i.post_id === res.body.post_id);
    expect(activity).toMatchObject({ interaction_type: 'post', content: text });
    expect(activity.content_html).not.toContain('<');
  });

  it('creates replies in the same thread, inheriting the privacy level', async () => {
    const root = await postOk(member, { content: 'Best decoy spread?', privacy_level: 'public' });
    const reply = await postOk(member2, { content: 'A J-hook', parent_id: root.post_id });
    expect(reply).toMatchObject({ parent_id: root.post_id, thread_id: root.post_id, privacy_level: 'public' });
    const nested = await postOk(member, { content: 'Thanks', parent_id: reply.post_id, privacy_level: 'course_members' });
    expect(nested).toMatchObject({ parent_id: reply.post_id, thread_id: root.post_id, privacy_level: 'course_members' });
    const thread = await api.get(`/api/social/posts/${root.post_id}`, member.token);
    expect(thread.body).toMatchObject({ reply_count: 2 });
    expect(thread.body.replies.map((r: any) => [r.post_id, r.reply_count])).toEqual([[reply.post_id, 1]]);
  });

  it('accepts exactly 10,000 characters', async () => {
    const res = await post(member, { course_id: course, content: 'x'.repeat(10_000) });
    expect(res.status).toBe(201);
  });

  it.each([
    ['empty content', { content: '' }, 'body.content'],
    ['blank content', { content: '  \n\t ' }, 'body.content'],
    ['content over 10,000 characters', { content: 'x'.repeat(10_001) }, 'body.content'],
    ['a NUL character', { content: 'a\u0000b' }, 'body.content'],
    ['a missing course', { course_id: undefined }, 'body.course_id'],
    ['an unknown course', { course_id: '00000000-0000-4000-8000-000000000001' }, 'body.course_id'],
    ['an unknown parent', { parent_id: '00000000-0000-4000-8000-000000000002' }, 'body.parent_id'],
    ['an unknown privacy level', { privacy_level: 'friends' }, 'body.privacy_level'],
    ['an unknown field', { title: 'x' }, 'body'],
  ])('rejects %s with 422', async (_name, over, location) => {
    const res = await post(member, { course_id: course, content: 'hello', ...over });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
  });

  it('rejects a reply in another course, to an invisible post, or more visible than its parent', async () => {
    const root = await postOk(member, { content: 'Members only', privacy_level: 'course_members' });
    const crossCourse = await post(member, { course_id: otherCourse, content: 'hi', parent_id: root.post_id });
    expect(crossCourse.status).toBe(422);
    expect(crossCourse.body.errors[0].location).toBe('body.parent_id');
    const invisible = await post(outsider, { course_id: course, content: 'hi', parent_id: root.post_id });
    expect(invisible.status).toBe(422);
    const wider = await post(member2, { course_id: course, content: 'hi', parent_id: root.post_id, privacy_level: 'public' });
    expect(wider.status).toBe(422);
    expect(wider.body.errors[0].location).toBe('body.privacy_level');
  });

  it('requires a signed-in user', async () => {
    expect((await api.post('/api/social/posts', { course_id: course, content: 'hi' })).status).toBe(401);
  });
});

describe('privacy on reads', () => {
  let pub: any;
  let members: any;
  let priv: any;
  let course2: string;

  beforeAll(async () => {
    course2 = await createCourse('Privacy course', teacher.userId);
    for (const m of [member, member2]) {
      await sql('INSERT INTO content.user_progress (user_id, content_id, course_id) VALUES ($1, $2, $3)', [
        m.userId,
        await createItem(course2),
        course2,
      ]);
    }
    pub = await postOk(member, { course_id: course2, content: 'public thread', privacy_level: 'public' });
    members = await postOk(member, { course_id: course2, content: 'members thread', privacy_level: 'course_members' });
    priv = await postOk(member, { course_id: course2, content: 'private thread', privacy_level: 'private' });
  });

  it('filters the forum listing by privacy level', async () => {
    expect(await threadIds(member, course2)).toEqual([priv.post_id, members.post_id, pub.post_id]); // the author sees all
    expect(await threadIds(member2, course2)).toEqual([members.post_id, pub.post_id]); // a member
    expect(await threadIds(outsider, course2)).toEqual([pub.post_id]); // not a member
    expect(await threadIds(teacher, course2)).toEqual([members.post_id, pub.post_id]); // the course's instructor
    expect(await threadIds(otherTeacher, course2)).toEqual([members.post_id, pub.post_id]); // any instructor
    expect(await threadIds(admin, course2)).toEqual([priv.post_id, members.post_id, pub.post_id]); // admins see everything
  });

  it('filters single posts the same way (404 when not visible)', async () => {
    expect((await api.get(`/api/social/posts/${members.post_id}`, outsider.token)).status).toBe(404);
    expect((await api.get(`/api/social/posts/${priv.post_id}`, member2.token)).status).toBe(404);
    expect((await api.get(`/api/social/posts/${priv.post_id}`, teacher.token)).status).toBe(404);
    expect((await api.get(`/api/social/posts/${priv.post_id}`, member.token)).status).toBe(200);
    expect((await api.get(`/api/social/posts/${priv.post_id}`, admin.token)).status).toBe(200);
    expect((await api.get(`/api/social/posts/${pub.post_id}`, outsider.token)).status).toBe(200);
    expect((await api.get(`/api/social/posts/${pub.post_id}`)).status).toBe(401);
  });

  it('counts only the replies and likes the caller may see', async () => {
    const thread = await postOk(member, { course_id: course2, content: 'count me', privacy_level: 'public' });
    await postOk(member2, { course_id: course2, content: 'public reply', parent_id: thread.post_id });
    await postOk(member2, { course_id: course2, content: 'members reply', parent_id: thread.post_id, privacy_level: 'course_members' });
    await postOk(member2, { course_id: course2, content: 'private reply', parent_id: thread.post_id, privacy_level: 'private' });
    await interact(member2, {
      interaction_type: 'like',
      target_type: 'post',
      target_id: thread.post_id,
      metadata: { privacy_level: 'public' },
    });
    await interact(outsider, {
      interaction_type: 'like',
      target_type: 'post',
      target_id: thread.post_id,
      metadata: { privacy_level: 'private' },
    });

    const countsFor = async (who: User) => {
      const res = await api.get(`/api/social/forums/${course2}?limit=100`, who.token);
      const t = res.body.threads.find((x: any) => x.post_id === thread.post_id);
      return [t.reply_count, t.like_count, t.liked_by_me];
    };
    expect(await countsFor(member2)).toEqual([3, 1, true]);
    expect(await countsFor(member)).toEqual([2, 1, false]);
    expect(await countsFor(outsider)).toEqual([1, 2, true]);
    expect(await countsFor(admin)).toEqual([3, 2, false]);

    const replies = await api.get(`/api/social/posts/${thread.post_id}`, outsider.token);
    expect(replies.body.replies.map((r: any) => r.content)).toEqual(['public reply']);
  });

  it('answers 404 for an unknown course, 422 for a malformed id and 401 anonymously', async () => {
    expect((await api.get('/api/social/forums/00000000-0000-4000-8000-000000000003', member.token)).status).toBe(404);
    expect((await api.get('/api/social/forums/nope', member.token)).status).toBe(422);
    expect((await api.get(`/api/social/forums/${course2}`)).status).toBe(401);
  });
});

describe('forum pagination', () => {
  it('pages with a keyset cursor, newest first, without gaps or repeats', async () => {
    const c = await createCourse('Paging', null);
    const made: string[] = [];
    for (let i = 0; i < 5; i++)
      made.push((await postOk(member, { course_id: c, content: `thread ${i}`, privacy_level: 'public' })).post_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await api.get(`/api/social/forums/${c}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, outsider.token);
      expect(res.status).toBe(200);
      seen.push(...res.body.threads.map((t: any) => t.post_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['cursor=garbage', 'query.cursor'],
    [`cursor=${Buffer.from(JSON.stringify(['2020-01-01', 'x'])).toString('base64url')}`, 'query.cursor'],
    ['sort=old', 'query'],
  ])('rejects %s with 422', async (qs, location) => {
    const res = await api.get(`/api/social/forums/${course}?${qs}`, member.token);
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
  });
});

describe('deleting and moderating', () => {
  it('lets the author delete their post: soft delete, placeholder while replies remain', async () => {
    const root = await postOk(member, { content: 'delete me', privacy_level: 'public' });
    const reply = await postOk(member2, { content: 'a reply', parent_id: root.post_id });
    const lonely = await postOk(member, { content: 'nobody answers', privacy_level: 'public' });

    expect((await api.del(`/api/social/posts/${root.post_id}`, member2.token)).status).toBe(403);
    expect((await api.del(`/api/social/posts/${root.post_id}`, otherTeacher.token)).status).toBe(403);
    expect((await api.del(`/api/social/posts/${root.post_id}`)).status).toBe(401);
    expect((await api.del(`/api/social/posts/${root.post_id}`, member.token)).status).toBe(204);
    expect((await api.del(`/api/social/posts/${root.post_id}`, member.token)).status).toBe(204); // idempotent
    expect((await api.del(`/api/social/posts/${lonely.post_id}`, member.token)).status).toBe(204);

    const stored = await sql('SELECT content, status, deleted_at FROM social.posts WHERE id = $1', [root.post_id]);
    expect(stored.rows[0]).toMatchObject({ content: '[deleted]', status: 'deleted' });
    const forum = await api.get(`/api/social/forums/${course}?limit=100`, outsider.token);
    const placeholder = forum.body.threads.find((t: any) => t.post_id === root.post_id);
    expect(placeholder).toMatchObject({ content: '[deleted]', content_html: '[deleted]', author: null, status: 'deleted', reply_count: 1 });
    expect(forum.body.threads.some((t: any) => t.post_id === lonely.post_id)).toBe(false);
    expect(JSON.stringify(forum.body)).not.toContain('delete me');
    // The reply is still readable; the deleted post's activity leaves the author's feed.
    const thread = await api.get(`/api/social/posts/${root.post_id}`, outsider.token);
    expect(thread.body.replies.map((r: any) => r.post_id)).toEqual([reply.post_id]);
    expect((await feedItems(member, member)).some((i: any) => i.post_id === root.post_id)).toBe(false);
  });

  it("lets admins and the course's instructor delete any post of the course", async () => {
    const a = await postOk(member, { content: 'spam 1', privacy_level: 'public' });
    const b = await postOk(member, { content: 'spam 2', privacy_level: 'public' });
    expect((await api.del(`/api/social/posts/${a.post_id}`, teacher.token)).status).toBe(204);
    expect((await api.del(`/api/social/posts/${b.post_id}`, admin.token)).status).toBe(204);
    expect((await api.del('/api/social/posts/00000000-0000-4000-8000-000000000004', admin.token)).status).toBe(404);
  });

  it('hides a post from everyone but its author and moderators', async () => {
    const p = await postOk(member, { content: 'questionable', privacy_level: 'public' });
    expect((await api.post(`/api/social/posts/${p.post_id}/moderation`, { action: 'hide' }, member2.token)).status).toBe(403);
    expect((await api.post(`/api/social/posts/${p.post_id}/moderation`, { action: 'hide' }, otherTeacher.token)).status).toBe(403);
    expect((await api.post(`/api/social/posts/${p.post_id}/moderation`, { action: 'bury' }, teacher.token)).status).toBe(422);
    const hidden = await api.post(`/api/social/posts/${p.post_id}/moderation`, { action: 'hide', reason: 'off topic' }, teacher.token);
    expect(hidden.status).toBe(200);
    expect(hidden.body.status).toBe('hidden');

    expect(await threadIds(member2)).not.toContain(p.post_id);
    expect(await threadIds(outsider)).not.toContain(p.post_id);
    expect((await api.get(`/api/social/posts/${p.post_id}`, member2.token)).status).toBe(404);
    expect(await threadIds(member)).toContain(p.post_id);
    expect(await threadIds(teacher)).toContain(p.post_id);
    expect(await threadIds(admin)).toContain(p.post_id);
    expect((await feedItems(member2, member)).some((i: any) => i.post_id === p.post_id)).toBe(false);
    expect((await post(member2, { course_id: course, content: 'reply', parent_id: p.post_id })).status).toBe(422);

    const shown = await api.post(`/api/social/posts/${p.post_id}/moderation`, { action: 'unhide' }, admin.token);
    expect(shown.body.status).toBe('visible');
    expect(await threadIds(outsider)).toContain(p.post_id);
  });
});

describe('interactions', () => {
  it('records posts and comments through the interaction API', async () => {
    const res = await interact(member, {
      interaction_type: 'post',
      target_type: 'course',
      target_id: course,
      content: 'Opening day <b>plans</b>?',
      metadata: { privacy_level: 'public' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      interaction_type: 'post',
      user_id: member.userId,
      target_type: 'course',
      target_id: course,
      content: 'Opening day <b>plans</b>?',
      content_html: 'Opening day &lt;b&gt;plans&lt;/b&gt;?',
      metadata: { privacy_level: 'public', course_context: course },
      post: { content: 'Opening day <b>plans</b>?', privacy_level: 'public', parent_id: null },
    });
    const comment = await interact(member2, {
      interaction_type: 'comment',
      target_type: 'post',
      target_id: res.body.post_id,
      content: 'Scouting first',
      metadata: { privacy_level: 'course_members' },
    });
    expect(comment.status).toBe(201);
    expect(comment.body.post).toMatchObject({ parent_id: res.body.post_id, thread_id: res.body.post_id, privacy_level: 'course_members' });
  });

  it('makes likes idempotent: a repeat returns the same record with 200', async () => {
    const p = await postOk(member, { content: 'like me', privacy_level: 'public' });
    const body = { interaction_type: 'like', target_type: 'post', target_id: p.post_id, metadata: { privacy_level: 'public' } };
    const first = await interact(member2, body);
    expect(first.status).toBe(201);
    const again = await interact(member2, { ...body, metadata: { privacy_level: 'private' } });
    expect(again.status).toBe(200);
    expect(again.body.interaction_id).toBe(first.body.interaction_id);
    expect(again.body.metadata.privacy_level).toBe('public');

    const racing = await Promise.all(Array.from({ length: 10 }, () => interact(outsider, body)));
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    expect(racing.filter((r) => r.status === 200)).toHaveLength(9);
    expect(new Set(racing.map((r) => r.body.interaction_id)).size).toBe(1);
    const rows = await sql(`SELECT count(*)::int AS n FROM social.interactions WHERE interaction_type = 'like' AND target_id = $1`, [
      p.post_id,
    ]);
    expect(rows.rows[0].n).toBe(2);
    expect((await api.get(`/api/social/posts/${p.post_id}`, member.token)).body.like_count).toBe(2);
  });

  it('makes follows idempotent and lets the follower undo them', async () => {
    const body = { interaction_type: 'follow', target_type: 'user', target_id: member2.userId, metadata: { privacy_level: 'public' } };
    const first = await interact(outsider, body);
    expect(first.status).toBe(201);
    const again = await interact(outsider, body);
    expect(again.status).toBe(200);
    expect(again.body.interaction_id).toBe(first.body.interaction_id);
    expect((await api.del(`/api/social/interactions/${first.body.interaction_id}`, member.token)).status).toBe(404);
    expect((await api.del(`/api/social/interactions/${first.body.interaction_id}`, outsider.token)).status).toBe(204);
    expect((await interact(outsider, body)).status).toBe(201);
  });

  it('records shares and likes of content items and courses', async () => {
    const share = await interact(member, {
      interaction_type: 'share',
      target_type: 'content',
      target_id: item,
      content: 'Great <read>',
      metadata: { privacy_level: 'course_members' },
    });
    expect(share.status).toBe(201);
    expect(share.body).toMatchObject({ content_html: 'Great &lt;read&gt;', metadata: { course_context: course } });
    const like = await interact(member, {
      interaction_type: 'like',
      target_type: 'course',
      target_id: otherCourse,
      metadata: { privacy_level: 'public' },
    });
    expect(like.status).toBe(201);
  });

  it.each([
    ['a follow of a course', { interaction_type: 'follow', target_type: 'course', target_id: 'COURSE' }, 'body.target_type'],
    ['a comment on a user', { interaction_type: 'comment', target_type: 'user', target_id: 'SELF', content: 'x' }, 'body.target_type'],
    ['a comment without content', { interaction_type: 'comment', target_type: 'post', target_id: 'POST' }, 'body.content'],
    ['a post without content', { interaction_type: 'post', target_type: 'course', target_id: 'COURSE' }, 'body.content'],
    ['a like with content', { interaction_type: 'like', target_type: 'course', target_id: 'COURSE', content: 'x' }, 'body.content'],
    ['following yourself', { interaction_type: 'follow', target_type: 'user', target_id: 'SELF' }, 'body.target_id'],
    [
      'an unknown user',
      { interaction_type: 'follow', target_type: 'user', target_id: '00000000-0000-4000-8000-000000000005' },
      'body.target_id',
    ],
    [
      'an unknown post',
      { interaction_type: 'like', target_type: 'post', target_id: '00000000-0000-4000-8000-000000000006' },
      'body.target_id',
    ],
    ['an unknown interaction type', { interaction_type: 'poke', target_type: 'user', target_id: 'SELF' }, 'body.interaction_type'],
    ['a blank comment', { interaction_type: 'comment', target_type: 'post', target_id: 'POST', content: '   ' }, 'body.content'],
    ['an unknown field', { interaction_type: 'like', target_type: 'course', target_id: 'COURSE', user_id: 'SELF' }, 'body'],
    [
      'a course_members follow without a course',
      { interaction_type: 'follow', target_type: 'user', target_id: 'OTHER', privacy: 'course_members' },
      'body.metadata.privacy_level',
    ],
    [
      'a course context that contradicts the target',
      { interaction_type: 'like', target_type: 'course', target_id: 'COURSE', context: 'OTHERCOURSE' },
      'body.metadata.course_context',
    ],
    [
      'an unknown privacy level',
      { interaction_type: 'like', target_type: 'course', target_id: 'COURSE', privacy: 'friends' },
      'body.metadata.privacy_level',
    ],
  ])('rejects %s with 422', async (_name, spec, location) => {
    const p = await postOk(member, { content: 'target', privacy_level: 'public' });
    const ids: Record<string, string> = {
      COURSE: course,
      OTHERCOURSE: otherCourse,
      SELF: member.userId,
      OTHER: member2.userId,
      POST: p.post_id,
    };
    const { privacy, context, ...rest } = spec as Record<string, string>;
    const body: Record<string, unknown> = {
      metadata: { privacy_level: privacy ?? 'public', ...(context ? { course_context: ids[context] } : {}) },
    };
    for (const [k, v] of Object.entries(rest)) body[k] = ids[v] ?? v;
    const res = await interact(member, body);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
  });

  it('refuses likes of posts the caller may not see, and anonymous interactions', async () => {
    const secret = await postOk(member, { content: 'members only', privacy_level: 'course_members' });
    const res = await interact(outsider, {
      interaction_type: 'like',
      target_type: 'post',
      target_id: secret.post_id,
      metadata: { privacy_level: 'public' },
    });
    expect(res.status).toBe(422);
    expect(
      (
        await api.post('/api/social/interactions', {
          interaction_type: 'like',
          target_type: 'course',
          target_id: course,
          metadata: { privacy_level: 'public' },
        })
      ).status,
    ).toBe(401);
  });

  it('refuses to delete a post through its interaction', async () => {
    const res = await interact(member, {
      interaction_type: 'post',
      target_type: 'course',
      target_id: course,
      content: 'x',
      metadata: { privacy_level: 'public' },
    });
    expect((await api.del(`/api/social/interactions/${res.body.interaction_id}`, member.token)).status).toBe(409);
  });
});

describe('feeds', () => {
  let fan: User;
  let star: User;
  let feedCourse: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    fan = await signUp(api, { username: 'fan' });
    star = await signUp(api, { username: 'star' });
    feedCourse = await createCourse('Feeds', null);
    const feedItem = await createItem(feedCourse);
    for (const u of [fan, star]) {
      await sql('INSERT INTO content.user_progress (user_id, content_id, course_id) VALUES ($1, $2, $3)', [u.userId, feedItem, feedCourse]);
    }
    ids.follow = (
      await interact(fan, {
        interaction_type: 'follow',
        target_type: 'user',
        target_id: star.userId,
        metadata: { privacy_level: 'public' },
      })
    ).body.interaction_id;
    ids.fanPost = (await postOk(fan, { course_id: feedCourse, content: 'fan public', privacy_level: 'public' })).post_id;
    ids.starPublic = (await postOk(star, { course_id: feedCourse, content: 'star public', privacy_level: 'public' })).post_id;
    ids.starMembers = (await postOk(star, { course_id: feedCourse, content: 'star members', privacy_level: 'course_members' })).post_id;
    ids.starPrivate = (await postOk(star, { course_id: feedCourse, content: 'star private', privacy_level: 'private' })).post_id;
    ids.starLike = (
      await interact(star, {
        interaction_type: 'like',
        target_type: 'post',
        target_id: ids.fanPost,
        metadata: { privacy_level: 'private' },
      })
    ).body.interaction_id;
  });

  const contents = async (viewer: User, of: User) =>
    (await feedItems(viewer, of)).map((i: any) => i.content ?? `${i.interaction_type}:${i.target_id}`);

  it("shows the user's activity and their followees', newest first, filtered for the caller", async () => {
    // The fan themself: a member of the course, but not star's private post or private like.
    expect(await contents(fan, fan)).toEqual(['star members', 'star public', 'fan public', `follow:${star.userId}`]);
    // An outsider (not a course member): public items only.
    expect(await contents(outsider, fan)).toEqual(['star public', 'fan public', `follow:${star.userId}`]);
    // The star sees their own private items in the fan's feed.
    expect(await contents(star, fan)).toEqual([
      `like:${ids.fanPost}`,
      'star private',
      'star members',
      'star public',
      'fan public',
      `follow:${star.userId}`,
    ]);
    // Admins see everything.
    expect(await contents(admin, fan)).toHaveLength(6);
    // A follower's activity is not in the followee's feed.
    expect(await contents(star, star)).not.toContain('fan public');
  });

  it("hides a followee's activity when the follow itself is private", async () => {
    const shy = await signUp(api, { username: 'shy' });
    await interact(shy, {
      interaction_type: 'follow',
      target_type: 'user',
      target_id: star.userId,
      metadata: { privacy_level: 'private' },
    });
    expect(await contents(shy, shy)).toContain('star public');
    expect(await contents(outsider, shy)).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const first = await api.get(`/api/social/users/${fan.userId}/feed?limit=2`, fan.token);
    expect(first.body.items).toHaveLength(2);
    const second = await api.get(`/api/social/users/${fan.userId}/feed?limit=2&cursor=${first.body.next_cursor}`, fan.token);
    expect(second.body.items.map((i: any) => i.content ?? i.interaction_type)).toEqual(['fan public', 'follow']);
    expect(second.body.next_cursor).toBeNull();
  });

  it('answers 404 for an unknown user and 401 anonymously', async () => {
    expect((await api.get('/api/social/users/00000000-0000-4000-8000-000000000007/feed', fan.token)).status).toBe(404);
    expect((await api.get(`/api/social/users/${fan.userId}/feed`)).status).toBe(401);
  });

  it('drops an unfollowed user from the feed', async () => {
    expect((await api.del(`/api/social/interactions/${ids.follow}`, fan.token)).status).toBe(204);
    expect(await contents(fan, fan)).toEqual(['fan public']);
  });
});
