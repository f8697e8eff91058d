import pytest

from bot.i18n import Catalog, language_for, placeholders


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_korean_and_english_have_the_same_messages(catalog: Catalog) -> None:
    assert catalog.keys("ko") == catalog.keys("en")


def test_translations_take_the_same_placeholders(catalog: Catalog) -> None:
    for key in catalog.keys("en"):
        assert placeholders(catalog.text("ko", key)) == placeholders(catalog.text("en", key)), key


@pytest.mark.parametrize(
    ("locale", "language"), [("ko", "ko"), ("en-US", "en"), ("en-GB", "en"), ("ja", "en"), (None, "en")]
)
def test_discord_locales_map_to_catalog_languages(locale: str | None, language: str) -> None:
    assert language_for(locale) == language


def test_discord_locale_enum_is_understood() -> None:
    import discord

    assert language_for(discord.Locale.korean) == "ko"
    assert language_for(discord.Locale.american_english) == "en"


def test_text_formats_parameters_and_rejects_unknown_keys(catalog: Catalog) -> None:
    assert "abc123" in catalog.text("ko", "error.generic", error_id="abc123")
    with pytest.raises(KeyError):
        catalog.text("en", "no.such.message")
