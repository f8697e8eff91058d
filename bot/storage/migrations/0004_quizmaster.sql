-- A role whose members may manage the guild's quiz banks and generated questions, besides Manage Server.

ALTER TABLE guild_settings ADD COLUMN quizmaster_role_id INTEGER;
