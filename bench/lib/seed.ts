/** Test data the benchmarks put straight into the database (the upload path is not what they measure). */
import type { Queryable } from '../../services/kit/deps/database.ts';

/** Publishes `n` content items; returns their ids. */
export async function seedContent(db: Queryable, n: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO content.content_items (title, content_type, file_path, mime_type, size_bytes, sha256, metadata)
     SELECT 'Tracking lesson ' || g, 'document', 'content/documents/pdf/bench-' || g || '.pdf', 'application/pdf', 1024,
            repeat('a', 64), jsonb_build_object('tags', jsonb_build_array('tracking'), 'difficulty_level', 'beginner')
       FROM generate_series(1, $1) g RETURNING id`,
    [n],
  );
  return rows.map((r) => r.id);
}

async function postJson(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = await res.json();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Registers and signs in `n` students on a Content Bridge: each one's access token and user id. */
export async function registerStudents(bridgeUrl: string, n: number): Promise<Array<{ token: string; userId: string }>> {
  const students: Array<{ token: string; userId: string }> = [];
  for (let i = 0; i < n; i++) {
    const username = `bench_student_${i}`;
    const password = `bench-password-${i}-long`;
    const reg = await postJson(`${bridgeUrl}/auth/register`, { username, email: `${username}@huntmaster.bench`, password });
    const login = await postJson(`${bridgeUrl}/auth/login`, { username, password });
    students.push({ token: login.access_token, userId: reg.user.user_id });
  }
  return students;
}
