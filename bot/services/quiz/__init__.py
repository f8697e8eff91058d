"""Quizzes without Discord: question banks and their importers (`bank`, `importers`), free-answer judging
(`answers`), the questions a guild can play (`catalog`), sessions with exactly-once answers (`sessions`),
spaced-repetition review (`review`), leaderboards and stats (`stats`), LLM-written questions (`generate`)
and the stats picture (`charts`).
"""
