import logging

import pytest

from bot.logs import RedactSecrets

SECRET = "MTIzNDU2Nzg5.secret.token-value"


@pytest.fixture
def logger() -> logging.Logger:
    log = logging.getLogger("test.redaction")
    log.filters[:] = [RedactSecrets([SECRET, "short"])]
    return log


def test_secrets_are_scrubbed_from_messages_and_arguments(
    logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("token is %s", SECRET)
        logger.info(f"inline {SECRET}")
    assert SECRET not in caplog.text
    assert caplog.text.count("[redacted]") == 2


def test_secrets_are_scrubbed_from_tracebacks(logger: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="test.redaction"):
        try:
            raise RuntimeError(f"login failed for {SECRET}")
        except RuntimeError:
            logger.exception("could not log in")
    assert SECRET not in caplog.text
    assert "[redacted]" in caplog.text


def test_very_short_values_are_not_treated_as_secrets(logger: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("a short word")
    assert "a short word" in caplog.text
