"""Errors meant for the user: services raise these, the bot's one error handler renders them.

Each carries a catalog key and its parameters, never a finished sentence, so the reply follows
the reader's language.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose localized message is shown to the user as it is (no error id, not logged as a bug)."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: object) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class InvalidInput(UserFacingError):
    key = "error.invalid_input"


class NotConfigured(UserFacingError):
    key = "error.llm_not_configured"


class NotAllowed(UserFacingError):
    key = "error.not_allowed"


class TryLater(UserFacingError):
    """Cooldowns, full queues and budgets: the user can act again later."""

    key = "error.try_later"
