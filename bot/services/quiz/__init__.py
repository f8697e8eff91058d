"""Quiz question banks: the bank format and its validator (`bank`), importers for other trivia formats
(`importers`) and free-answer judging (`answers`). Pure code: no Discord, no database.
"""
