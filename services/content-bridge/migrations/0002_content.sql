-- Courses, content items and progress, after the integration spec's curriculum tables.
CREATE TABLE content.courses (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_course_id varchar(255) UNIQUE,
    title varchar(255) NOT NULL,
    description text NOT NULL DEFAULT '',
    instructor_id uuid REFERENCES users.users (id) ON DELETE SET NULL,
    difficulty_level varchar(50),
    estimated_hours integer,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    sync_status varchar(50) NOT NULL DEFAULT 'local',
    last_synced timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A content item's file lives in the object store at `file_path`. A row is `published` only once
-- its object is stored; presigned uploads start as `pending` and are never served until completed.
CREATE TABLE content.content_items (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_content_id varchar(255) UNIQUE,
    course_id uuid REFERENCES content.courses (id) ON DELETE SET NULL,
    title varchar(255) NOT NULL,
    description text NOT NULL DEFAULT '',
    content_type varchar(32) NOT NULL CHECK (content_type IN ('video', 'document', 'interactive', 'assessment')),
    file_path varchar(500),
    mime_type varchar(255),
    size_bytes bigint,
    sha256 char(64),
    thumbnail_path varchar(500),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    sequence_number integer,
    prerequisites jsonb NOT NULL DEFAULT '[]'::jsonb,
    status varchar(16) NOT NULL DEFAULT 'published' CHECK (status IN ('pending', 'published')),
    version integer NOT NULL DEFAULT 1,
    sync_status varchar(50) NOT NULL DEFAULT 'local',
    created_by uuid REFERENCES users.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(metadata ->> 'tags', '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(metadata ->> 'learning_objectives', '')), 'C') ||
        setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')
    ) STORED
);
CREATE INDEX content_items_search_idx ON content.content_items USING gin (search_vector);
CREATE INDEX content_items_course_idx ON content.content_items (course_id, sequence_number);
CREATE INDEX content_items_tags_idx ON content.content_items USING gin ((metadata -> 'tags'));
CREATE INDEX content_items_created_idx ON content.content_items (created_at, id);

CREATE TABLE content.user_progress (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    course_id uuid REFERENCES content.courses (id) ON DELETE SET NULL,
    content_id uuid NOT NULL REFERENCES content.content_items (id) ON DELETE CASCADE,
    progress_percentage numeric(5, 2) NOT NULL DEFAULT 0 CHECK (progress_percentage BETWEEN 0 AND 100),
    time_spent_minutes integer NOT NULL DEFAULT 0 CHECK (time_spent_minutes >= 0),
    last_accessed timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, content_id)
);
CREATE INDEX user_progress_user_idx ON content.user_progress (user_id, course_id);
