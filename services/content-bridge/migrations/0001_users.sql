-- Users, credentials and sessions. Table shapes follow the integration spec (users, user_sessions),
-- with UUID ids so ids cannot be enumerated.
CREATE SCHEMA IF NOT EXISTS users;
CREATE SCHEMA IF NOT EXISTS content;
CREATE SCHEMA IF NOT EXISTS ml;

CREATE TABLE users.users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_user_id varchar(255) UNIQUE,
    username varchar(64) NOT NULL,
    email varchar(254) NOT NULL,
    password_hash text,
    profile_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    roles jsonb NOT NULL DEFAULT '["student"]'::jsonb,
    sync_status varchar(50) NOT NULL DEFAULT 'local',
    last_synced timestamptz,
    last_login timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users.users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users.users (lower(email));
CREATE INDEX users_roles_idx ON users.users USING gin (roles);

-- Opaque refresh tokens, stored hashed. Rotation links tokens of one login into a family; reuse of
-- a rotated token revokes the whole family.
CREATE TABLE users.refresh_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash char(64) NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON users.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON users.refresh_tokens (user_id);

CREATE TABLE users.password_resets (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    token_hash char(64) NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_user_idx ON users.password_resets (user_id);
