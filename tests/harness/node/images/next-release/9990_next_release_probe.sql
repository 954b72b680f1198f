-- The next release's migration (node tier only): it records that it ran, and takes a while, as a real
-- data migration can, so an API rolled out before it finished would be seen.
CREATE TABLE content.release_probe (
  release text PRIMARY KEY,
  migrated_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_sleep(8);
INSERT INTO content.release_probe (release) VALUES ('next');
