-- The per-user daily summaries become a view over the per-item daily rows
-- (analytics_daily_summaries). The event statement then keeps one aggregate row per user, course,
-- day and item instead of two (item row and summary row): that second upsert was ~22 % of the
-- statement's time per event (issue 14). Reports read the same columns, still exact at once.
--
-- Events without a content item (login, logout, course-level progress) get the item row with a
-- NULL content_id (the key is NULLS NOT DISTINCT), so the view counts them too; the per-day
-- progress maximum and first/last event times move onto the item rows.
--
-- Backward compatible with the previous release (docs/operations-upgrade.md): its pods keep
-- running during the rollout and still write analytics_summaries, which stays a table here and is
-- no longer read or written by this release. A later release drops it, and rebuilds the item rows
-- from the events again so that events written by the previous release's pods during the rollout
-- also count their item-less events and progress maximum.
ALTER TABLE content.analytics_user_content_daily
    ALTER COLUMN content_id DROP NOT NULL,
    ADD COLUMN progress_max numeric(5, 2),
    ADD COLUMN first_event_at timestamptz,
    ADD COLUMN last_event_at timestamptz;

-- Rebuilt from the events themselves (none is ever deleted), as the event statement folds them in.
TRUNCATE content.analytics_user_content_daily;
INSERT INTO content.analytics_user_content_daily
    (user_id, course_id, summary_date, content_id, events, views, time_seconds, progress_sum, progress_count, progress_max,
     assessments_completed, score_sum, score_count, first_event_at, last_event_at)
SELECT user_id, course_id, day, content_id, count(*), count(*) FILTER (WHERE is_view), coalesce(sum(t), 0), coalesce(sum(p), 0),
       count(p), max(p), count(*) FILTER (WHERE is_assessment), coalesce(sum(s), 0), count(s), min(occurred_at), max(occurred_at)
  FROM (SELECT user_id, course_id, content_id, occurred_at, (occurred_at AT TIME ZONE 'UTC')::date AS day,
               event_type = 'content_view' AS is_view, event_type = 'assessment_complete' AS is_assessment,
               (event_data ->> 'time_spent_seconds')::numeric AS t, (event_data ->> 'progress_percentage')::numeric AS p,
               (event_data ->> 'score')::numeric AS s
          FROM content.learning_events) facts
 GROUP BY user_id, course_id, day, content_id;
-- After the rebuild: building an index once is cheaper than maintaining it row by row.
CREATE INDEX analytics_ucd_course_idx ON content.analytics_user_content_daily (course_id, summary_date);

CREATE VIEW content.analytics_daily_summaries AS
SELECT user_id, course_id, summary_date,
       sum(events)::integer AS events,
       sum(views)::integer AS content_views,
       sum(time_seconds) AS total_time_seconds,
       floor(sum(time_seconds) / 60)::integer AS total_time_minutes,
       count(content_id)::integer AS content_items_accessed,
       max(progress_max) AS progress_made,
       sum(assessments_completed)::integer AS assessments_completed,
       sum(score_sum) AS score_sum,
       sum(score_count)::integer AS score_count,
       CASE WHEN sum(score_count) > 0 THEN sum(score_sum) / sum(score_count) END AS average_score,
       min(first_event_at) AS first_event_at,
       max(last_event_at) AS last_event_at
  FROM content.analytics_user_content_daily
 GROUP BY user_id, course_id, summary_date;
