-- Quizzes: guild question banks, quiz sessions, the answer log, spaced-repetition cards and LLM drafts.
--
-- Times are ISO 8601 text in UTC with microseconds ("2026-11-25T14:30:00.000000+00:00"), so comparing
-- the text compares the instants. Built-in banks ship with the package and are never copied here.

-- A guild's own banks. Everything below is keyed by guild_id first: one guild never sees another's.
CREATE TABLE guild_banks (
    guild_id        INTEGER NOT NULL,
    bank_id         TEXT    NOT NULL,
    name_json       TEXT    NOT NULL,            -- {"ko": "...", "en": "..."}
    topic           TEXT    NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    imported_by     INTEGER NOT NULL,
    imported_at     TEXT    NOT NULL,
    source_filename TEXT    NOT NULL,
    PRIMARY KEY (guild_id, bank_id)
);

CREATE TABLE guild_questions (
    guild_id    INTEGER NOT NULL,
    bank_id     TEXT    NOT NULL,
    question_id TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    topic       TEXT    NOT NULL,                -- copied from the payload: a question may override its bank's topic
    position    INTEGER NOT NULL,                -- order in the file, so an export reads like the import
    payload     TEXT    NOT NULL,                -- the question as JSON
    PRIMARY KEY (guild_id, bank_id, question_id, language),
    FOREIGN KEY (guild_id, bank_id) REFERENCES guild_banks (guild_id, bank_id) ON DELETE CASCADE
);
CREATE INDEX guild_questions_by_topic ON guild_questions (guild_id, topic, language);

-- A guild's switch for a built-in bank (no row means enabled).
CREATE TABLE guild_bank_settings (
    guild_id   INTEGER NOT NULL,
    bank_id    TEXT    NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (guild_id, bank_id)
);

CREATE TABLE quiz_sessions (
    id                   INTEGER PRIMARY KEY,
    guild_id             INTEGER,                -- NULL in direct messages
    channel_id           INTEGER NOT NULL,
    starter_id           INTEGER NOT NULL,
    topic                TEXT    NOT NULL,
    language             TEXT    NOT NULL,
    question_count       INTEGER NOT NULL CHECK (question_count >= 1),
    seconds_per_question INTEGER NOT NULL CHECK (seconds_per_question >= 1),
    solo                 INTEGER NOT NULL DEFAULT 0 CHECK (solo IN (0, 1)),
    status               TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'stopped')),
    current_index        INTEGER NOT NULL DEFAULT 0,
    message_id           INTEGER,
    created_at           TEXT    NOT NULL,
    ended_at             TEXT,
    stopped_by           INTEGER
);
-- The database, not a check in Python, keeps a channel to one group quiz at a time (and a member to one
-- solo quiz per channel): two members pressing "start" together cannot both win.
CREATE UNIQUE INDEX quiz_sessions_one_group_per_channel ON quiz_sessions (channel_id)
    WHERE status = 'running' AND solo = 0;
CREATE UNIQUE INDEX quiz_sessions_one_solo_per_member ON quiz_sessions (channel_id, starter_id)
    WHERE status = 'running' AND solo = 1;
CREATE INDEX quiz_sessions_by_guild ON quiz_sessions (guild_id, created_at);

-- Every question of a session is chosen at the start and kept as it was then (payload), so a bank
-- re-imported or disabled mid-quiz cannot change or remove a question under the players.
CREATE TABLE quiz_session_questions (
    session_id   INTEGER NOT NULL REFERENCES quiz_sessions (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    question_key TEXT    NOT NULL,               -- bank:id:language
    payload      TEXT    NOT NULL,
    opened_at    TEXT,                           -- NULL until the question is shown
    closes_at    TEXT,
    revealed_at  TEXT,
    message_id   INTEGER,
    PRIMARY KEY (session_id, position)
);

-- The answer log: leaderboards, statistics and streaks are all computed from it.
CREATE TABLE quiz_answers (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER,                        -- NULL in direct messages
    user_id      INTEGER NOT NULL,
    question_key TEXT    NOT NULL,
    topic        TEXT    NOT NULL,
    session_id   INTEGER REFERENCES quiz_sessions (id),
    position     INTEGER,
    review_of    TEXT,                           -- review answers: the due time of the card being answered
    choice       INTEGER,
    text         TEXT,
    correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
    latency_ms   INTEGER CHECK (latency_ms >= 0), -- NULL for reviews: they have no opening time
    source       TEXT    NOT NULL CHECK (source IN ('session', 'solo', 'daily', 'review')),
    answered_at  TEXT    NOT NULL,
    -- NULLs never collide in a UNIQUE index, so these checks are what make the two below airtight.
    CHECK ((source = 'review') = (session_id IS NULL)),
    CHECK ((session_id IS NULL) = (position IS NULL)),
    CHECK ((source = 'review') = (review_of IS NOT NULL))
);
-- Exactly once per member and session question, however many clicks arrive at the same moment.
CREATE UNIQUE INDEX quiz_answers_once_per_question ON quiz_answers (session_id, position, user_id)
    WHERE session_id IS NOT NULL;
-- Exactly once per member and review of a card: each time a card falls due is one attempt. A wrong answer
-- makes the card due again minutes later, which is a new attempt (a per-day key would refuse it).
CREATE UNIQUE INDEX quiz_answers_once_per_review ON quiz_answers (user_id, question_key, review_of)
    WHERE review_of IS NOT NULL;
CREATE INDEX quiz_answers_by_guild ON quiz_answers (guild_id, answered_at);
CREATE INDEX quiz_answers_by_user ON quiz_answers (user_id, answered_at);

-- One FSRS card per member and question, across guilds: what someone remembers does not depend on where.
CREATE TABLE review_cards (
    user_id          INTEGER NOT NULL,
    question_key     TEXT    NOT NULL,
    card             TEXT    NOT NULL,           -- fsrs.Card.to_json()
    due_at           TEXT    NOT NULL,
    last_reviewed_at TEXT    NOT NULL,
    reviews          INTEGER NOT NULL DEFAULT 0,
    lapses           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, question_key)
);
CREATE INDEX review_cards_by_due ON review_cards (user_id, due_at);

-- LLM-generated questions waiting for a moderator. Approved ones move into the guild bank generated-<topic>.
CREATE TABLE generated_drafts (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    requested_by INTEGER NOT NULL,
    topic        TEXT    NOT NULL,
    language     TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at   TEXT    NOT NULL,
    decided_at   TEXT
);
CREATE INDEX generated_drafts_pending ON generated_drafts (guild_id, status, id);
