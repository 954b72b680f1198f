-- Social features (issue 4 §3): course forum posts and the interaction log behind activity feeds.
-- Text is stored raw (bounded) and escaped by the service on the way out. Privacy is enforced by the
-- service on every read (see services/content-bridge/social/README.md).
CREATE SCHEMA IF NOT EXISTS social;

-- Forum posts. A thread is a top-level post (parent_id NULL, thread_id = id); replies point at
-- their parent and carry the thread's id, so a thread's replies are counted with one index range.
-- Deletion is soft: status 'deleted', content replaced by '[deleted]' (the original text is gone).
CREATE TABLE social.posts (
    id uuid PRIMARY KEY,
    course_id uuid NOT NULL REFERENCES content.courses (id) ON DELETE CASCADE,
    author_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    parent_id uuid REFERENCES social.posts (id) ON DELETE CASCADE,
    thread_id uuid NOT NULL REFERENCES social.posts (id) ON DELETE CASCADE,
    content text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 10000),
    privacy_level varchar(16) NOT NULL CHECK (privacy_level IN ('public', 'course_members', 'private')),
    status varchar(16) NOT NULL DEFAULT 'visible' CHECK (status IN ('visible', 'hidden', 'deleted')),
    moderated_by uuid REFERENCES users.users (id) ON DELETE SET NULL,
    moderated_at timestamptz,
    moderation_reason varchar(500),
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((parent_id IS NULL) = (thread_id = id)),
    CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE INDEX posts_forum_idx ON social.posts (course_id, created_at DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX posts_thread_idx ON social.posts (thread_id);
CREATE INDEX posts_parent_idx ON social.posts (parent_id, created_at, id);

-- Every social action (the spec's interaction shape). `post` and `comment` interactions point at the
-- forum post they created (`post_id`); their text lives in social.posts only, so deleting the post
-- removes it everywhere. `course_id` is the course context privacy 'course_members' is judged by.
CREATE TABLE social.interactions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    interaction_type varchar(16) NOT NULL CHECK (interaction_type IN ('post', 'comment', 'like', 'share', 'follow')),
    target_type varchar(16) NOT NULL CHECK (target_type IN ('course', 'content', 'user', 'post')),
    target_id uuid NOT NULL,
    course_id uuid REFERENCES content.courses (id) ON DELETE CASCADE,
    post_id uuid REFERENCES social.posts (id) ON DELETE CASCADE,
    content text CHECK (char_length(content) BETWEEN 1 AND 10000),
    privacy_level varchar(16) NOT NULL CHECK (privacy_level IN ('public', 'course_members', 'private')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((interaction_type IN ('post', 'comment')) = (post_id IS NOT NULL)),
    CHECK (privacy_level <> 'course_members' OR course_id IS NOT NULL),
    CHECK (interaction_type <> 'follow' OR (target_type = 'user' AND target_id <> user_id))
);
-- Likes and follows happen once per user and target: a repeat finds the existing row.
CREATE UNIQUE INDEX interactions_once_idx ON social.interactions (user_id, interaction_type, target_type, target_id)
    WHERE interaction_type IN ('like', 'follow');
CREATE INDEX interactions_feed_idx ON social.interactions (user_id, created_at DESC, id DESC);
CREATE INDEX interactions_target_idx ON social.interactions (target_type, target_id, interaction_type);
