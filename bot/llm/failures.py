"""What went wrong with a model call, in the words the user sees (a catalog key)."""

from __future__ import annotations

import openai


def failure_key(error: BaseException) -> str:
    # APITimeoutError is an APIConnectionError, so it is tested first.
    if isinstance(error, openai.APITimeoutError | TimeoutError):
        return "explain.failed_timeout"
    if isinstance(error, openai.RateLimitError):
        return "explain.failed_busy"
    if isinstance(error, openai.APIConnectionError):
        return "explain.failed_connection"
    return "explain.failed_other"
