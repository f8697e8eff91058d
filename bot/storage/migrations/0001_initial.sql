-- Foundation: bot-wide key/value state and per-guild / per-user preferences.

CREATE TABLE bot_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE guild_settings (
    guild_id   INTEGER PRIMARY KEY,
    locale     TEXT,
    timezone   TEXT NOT NULL DEFAULT 'Asia/Seoul',
    updated_at TEXT NOT NULL
);

CREATE TABLE user_settings (
    user_id    INTEGER PRIMARY KEY,
    locale     TEXT,
    timezone   TEXT,
    updated_at TEXT NOT NULL
);
