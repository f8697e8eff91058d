from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

VARIABLES = (
    "DISCORD_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "STUDYBUDDY_MODEL",
    "STUDYBUDDY_DB",
    "STUDYBUDDY_DEV_GUILD",
    "STUDYBUDDY_LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings(env_file=None)
    assert settings.discord_token is None
    assert settings.model == "gpt-4o-mini"
    assert settings.database == Path("studybuddy.db")
    assert settings.dev_guild is None
    assert settings.log_level == "INFO"
    assert not settings.llm_configured


def test_reads_dotenv_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=a.b.c\nSTUDYBUDDY_MODEL=llama3.1\nSTUDYBUDDY_LOG_LEVEL=debug\n")
    monkeypatch.setenv("STUDYBUDDY_MODEL", "qwen2.5")
    settings = load_settings(env_file=env_file)
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "a.b.c"
    assert settings.model == "qwen2.5"
    assert settings.log_level == "DEBUG"


def test_secrets_are_not_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-value")
    settings = load_settings(env_file=None)
    assert "sk-very-secret-value" not in repr(settings)
    assert settings.llm_configured


def test_a_local_server_without_key_counts_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    assert load_settings(env_file=None).llm_configured


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STUDYBUDDY_DEV_GUILD", "my-guild"),
        ("STUDYBUDDY_DEV_GUILD", "-5"),
        ("STUDYBUDDY_LOG_LEVEL", "loud"),
        ("OPENAI_BASE_URL", "localhost:11434"),
        ("STUDYBUDDY_MODEL", ""),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert variable in str(raised.value)


def test_blank_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "  ")
    monkeypatch.setenv("STUDYBUDDY_DEV_GUILD", "")
    settings = load_settings(env_file=None)
    assert settings.discord_token is None
    assert settings.dev_guild is None
