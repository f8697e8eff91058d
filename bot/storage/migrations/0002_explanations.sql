-- Explanations: token usage per day, guild and user; daily budgets; DM conversation history.

CREATE TABLE llm_usage (
    day           TEXT    NOT NULL,            -- YYYY-MM-DD in the guild's time zone
    guild_id      INTEGER NOT NULL DEFAULT 0,  -- 0 for direct messages
    user_id       INTEGER NOT NULL,
    requests      INTEGER NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, guild_id, user_id)
);

CREATE TABLE token_budgets (
    guild_id           INTEGER PRIMARY KEY,
    guild_daily_tokens INTEGER CHECK (guild_daily_tokens > 0),
    user_daily_tokens  INTEGER CHECK (user_daily_tokens > 0),
    updated_at         TEXT NOT NULL
);

CREATE TABLE dm_messages (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('human', 'ai')),
    content    TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX dm_messages_by_user ON dm_messages (user_id, id);
