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
