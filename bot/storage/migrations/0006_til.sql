-- TIL posts: what members learned each day, where the post was published, full-text search over it, and the
-- per-guild settings of the TIL home channel, reminders and the weekly digest. Local days use the member's
-- time zone (user_settings.timezone), else the guild's (guild_settings.timezone).

CREATE TABLE til_settings (
    guild_id             INTEGER PRIMARY KEY,
    channel_id           INTEGER,                -- the TIL home channel (text or forum); NULL: not chosen yet
    thread_per_member    INTEGER NOT NULL DEFAULT 0 CHECK (thread_per_member IN (0, 1)),  -- text channels only
    reminder_time        TEXT,                   -- "HH:MM" in the guild's zone; NULL: no reminders
    reminder_role_id     INTEGER,                -- mentioned in `reminder_channel_id` (besides opted-in DMs)
    reminder_channel_id  INTEGER,
    reminder_next_at     TEXT,                   -- UTC
    digest_weekday       INTEGER CHECK (digest_weekday BETWEEN 0 AND 6),  -- Monday = 0; NULL: no digest
    digest_time          TEXT,
    digest_channel_id    INTEGER,
    digest_next_at       TEXT,                   -- UTC
    updated_at           TEXT    NOT NULL
);

CREATE TABLE til_posts (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    author_id    INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    learned      TEXT    NOT NULL,
    hard         TEXT    NOT NULL DEFAULT '',
    curious      TEXT    NOT NULL DEFAULT '',
    reflection   TEXT    NOT NULL DEFAULT '',
    tags         TEXT    NOT NULL DEFAULT '',   -- "AWS, LangChain": readable, and searchable as it is
    local_date   TEXT    NOT NULL,              -- the author's day ("YYYY-MM-DD" in their zone, else the guild's)
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    channel_id   INTEGER,                       -- where it was published; NULL until it is
    message_id   INTEGER,
    thread_id    INTEGER,                       -- the forum post, or the member's thread
    publish_error TEXT                          -- why the last publication failed (the TIL is kept anyway)
);
CREATE INDEX til_posts_by_author ON til_posts (guild_id, author_id, local_date);
CREATE INDEX til_posts_by_guild ON til_posts (guild_id, created_at);
CREATE INDEX til_posts_by_day ON til_posts (guild_id, local_date);

-- Full-text search: the trigram tokenizer matches any substring of three or more characters, which is what
-- Korean needs (no spaces between a noun and its particle: "인스턴스를" must match "인스턴스").
-- Each column is indexed with two newlines after it, so every character of the text starts a trigram: a one-
-- or two-character search term is then found through the trigrams it starts (til_search_vocab), even at the end
-- of a column, instead of by reading every post. Because of those newlines the index is not a copy of the content
-- table: do not run the FTS5 'rebuild' command on it.
CREATE VIRTUAL TABLE til_search USING fts5(
    title, learned, hard, curious, reflection, tags,
    content = 'til_posts', content_rowid = 'id', tokenize = 'trigram'
);
CREATE VIRTUAL TABLE til_search_vocab USING fts5vocab(til_search, 'row');
CREATE TRIGGER til_posts_search_insert AFTER INSERT ON til_posts BEGIN
    INSERT INTO til_search (rowid, title, learned, hard, curious, reflection, tags)
    VALUES (new.id, new.title || char(10, 10), new.learned || char(10, 10), new.hard || char(10, 10),
            new.curious || char(10, 10), new.reflection || char(10, 10), new.tags || char(10, 10));
END;
CREATE TRIGGER til_posts_search_delete AFTER DELETE ON til_posts BEGIN
    INSERT INTO til_search (til_search, rowid, title, learned, hard, curious, reflection, tags)
    VALUES ('delete', old.id, old.title || char(10, 10), old.learned || char(10, 10), old.hard || char(10, 10),
            old.curious || char(10, 10), old.reflection || char(10, 10), old.tags || char(10, 10));
END;
CREATE TRIGGER til_posts_search_update AFTER UPDATE OF title, learned, hard, curious, reflection, tags ON til_posts
BEGIN
    INSERT INTO til_search (til_search, rowid, title, learned, hard, curious, reflection, tags)
    VALUES ('delete', old.id, old.title || char(10, 10), old.learned || char(10, 10), old.hard || char(10, 10),
            old.curious || char(10, 10), old.reflection || char(10, 10), old.tags || char(10, 10));
    INSERT INTO til_search (rowid, title, learned, hard, curious, reflection, tags)
    VALUES (new.id, new.title || char(10, 10), new.learned || char(10, 10), new.hard || char(10, 10),
            new.curious || char(10, 10), new.reflection || char(10, 10), new.tags || char(10, 10));
END;

-- A member's choices in a guild.
CREATE TABLE til_members (
    guild_id        INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    quiz_opt_out    INTEGER NOT NULL DEFAULT 0 CHECK (quiz_opt_out IN (0, 1)),    -- no quiz questions from my TILs
    reminder_dm     INTEGER NOT NULL DEFAULT 0 CHECK (reminder_dm IN (0, 1)),     -- remind me by DM
    thread_id       INTEGER,                                                      -- thread-per-member mode
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Claims for the guild-wide jobs that must run once: a reminder per local day, a digest per week. A pending run
-- is (re)tried from `retry_at`: the process that claims it holds it until then, so one that dies mid-send costs
-- one lease, and a retry after a Discord failure waits its backoff.
CREATE TABLE til_runs (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('reminder', 'digest')),
    period      TEXT    NOT NULL,               -- the local date (reminder) or the week's Monday (digest)
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    due_at      TEXT    NOT NULL,               -- UTC: the scheduled moment (how late a retry may still go out)
    claimed_at  TEXT    NOT NULL,
    retry_at    TEXT,                           -- UTC; NULL once done or failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    failure     TEXT,                           -- the last fault ("unavailable", "channel_missing", ...)
    message_id  INTEGER,
    UNIQUE (guild_id, kind, period)
);
CREATE INDEX til_runs_pending ON til_runs (status, retry_at);

-- Quiz questions generated from TILs: which post each came from, so an author's opt-out or deletion reaches them.
CREATE TABLE til_questions (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    post_id     INTEGER NOT NULL REFERENCES til_posts (id) ON DELETE CASCADE,
    language    TEXT    NOT NULL,
    payload     TEXT    NOT NULL,               -- the question as JSON, validated like a bank question
    created_at  TEXT    NOT NULL,
    used_at     TEXT                            -- when a daily quiz asked it
);
CREATE INDEX til_questions_unused ON til_questions (guild_id, used_at, created_at);
-- One waiting question per post and language: two processes writing questions for the same new post store one.
CREATE UNIQUE INDEX til_questions_one_waiting ON til_questions (post_id, language) WHERE used_at IS NULL;

-- An edited post takes back its questions not asked yet: they were written from the old text.
CREATE TRIGGER til_posts_edited_questions AFTER UPDATE OF title, learned, hard, curious, reflection ON til_posts
BEGIN
    DELETE FROM til_questions WHERE post_id = new.id AND used_at IS NULL;
END;

-- An author who opts out of TIL quizzes takes back the questions from their posts that were not asked yet, however
-- the choice is written (a new member row or a change to an existing one). Asked ones stay in the quiz history.
CREATE TRIGGER til_members_opt_out_insert AFTER INSERT ON til_members WHEN new.quiz_opt_out = 1 BEGIN
    DELETE FROM til_questions WHERE used_at IS NULL
        AND post_id IN (SELECT id FROM til_posts WHERE guild_id = new.guild_id AND author_id = new.user_id);
END;
CREATE TRIGGER til_members_opt_out_update AFTER UPDATE OF quiz_opt_out ON til_members WHEN new.quiz_opt_out = 1
BEGIN
    DELETE FROM til_questions WHERE used_at IS NULL
        AND post_id IN (SELECT id FROM til_posts WHERE guild_id = new.guild_id AND author_id = new.user_id);
END;
