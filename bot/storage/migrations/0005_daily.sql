-- The daily quiz: each guild's schedule, and one row per post the scheduler claims.
--
-- A daily post is a one-question quiz session open for hours, so it shares the answer log, leaderboards,
-- streaks and review cards with every other quiz. It must not count as the channel's running group quiz,
-- or a daily question would block `/quiz start` there until its reveal.

ALTER TABLE quiz_sessions ADD COLUMN daily INTEGER NOT NULL DEFAULT 0 CHECK (daily IN (0, 1));
DROP INDEX quiz_sessions_one_group_per_channel;
CREATE UNIQUE INDEX quiz_sessions_one_group_per_channel ON quiz_sessions (channel_id)
    WHERE status = 'running' AND solo = 0 AND daily = 0;

CREATE TABLE daily_schedules (
    guild_id         INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL,
    local_time       TEXT    NOT NULL,           -- "HH:MM" in `timezone`
    timezone         TEXT    NOT NULL,           -- IANA name, e.g. Asia/Seoul
    topics_json      TEXT    NOT NULL,           -- ["aws", "adsp"]; [] means every topic of the guild
    language         TEXT    NOT NULL,
    reveal_minutes   INTEGER NOT NULL CHECK (reveal_minutes >= 1),
    no_repeat_days   INTEGER NOT NULL CHECK (no_repeat_days >= 0),
    alert_channel_id INTEGER,                    -- where faults are reported; NULL: a DM to `configured_by`
    configured_by    INTEGER NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    paused_reason    TEXT,                       -- 'moderator', 'channel_missing', 'forbidden'
    next_due_at      TEXT    NOT NULL,           -- UTC instant of the next post, from local_time in timezone
    updated_at       TEXT    NOT NULL
);
CREATE INDEX daily_schedules_due ON daily_schedules (status, next_due_at);

-- A post exists from the moment it is claimed: the claim (with its quiz session and question) commits
-- before anything is sent, and a scheduled day can be claimed once only, by whichever process gets there
-- first. Sending is leased separately, so a process that dies mid-send leaves a post another can finish.
CREATE TABLE daily_posts (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('scheduled', 'manual')),
    local_date      TEXT    NOT NULL,            -- the guild's day the post is for, "YYYY-MM-DD"
    due_at          TEXT    NOT NULL,
    claimed_at      TEXT    NOT NULL,
    session_id      INTEGER REFERENCES quiz_sessions (id),  -- NULL for skipped days
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'posted', 'skipped', 'failed')),
    late            INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,                        -- a sender holds the post until then
    message_id      INTEGER,
    posted_at       TEXT,
    failure         TEXT
);
-- Skipped and failed days leave the index: a schedule fixed later that day may still post that day.
CREATE UNIQUE INDEX daily_posts_once_per_day ON daily_posts (guild_id, local_date)
    WHERE kind = 'scheduled' AND status IN ('pending', 'posted');
CREATE INDEX daily_posts_pending ON daily_posts (status, next_attempt_at);
CREATE INDEX daily_posts_by_guild ON daily_posts (guild_id, local_date);
