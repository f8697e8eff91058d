import ast
import re
from pathlib import Path

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


def _literal_keys(namespaces: set[str]) -> dict[str, list[str]]:
    """Every string literal in bot/ and cogs/ shaped like a catalog key of a known namespace -> where it is."""
    found: dict[str, list[str]] = {}
    shape = re.compile(r"^([a-z_]+)\.[a-z0-9_]*[a-z0-9](\.[a-z0-9_]+)*$")  # f-string stems end in "_"
    root = Path(__file__).resolve().parents[2]
    for folder in ("bot", "cogs"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    match = shape.match(node.value)
                    if match and match[1] in namespaces:
                        found.setdefault(node.value, []).append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_message_key_in_the_code_is_in_the_catalog(catalog: Catalog) -> None:
    """A key missing from the catalog shows up only when a member hits that error: find it here instead."""
    keys = catalog.keys("en")
    namespaces = {key.split(".", 1)[0] for key in keys}
    missing = {key: places for key, places in _literal_keys(namespaces).items() if key not in keys}
    assert not missing


def test_text_formats_parameters_and_rejects_unknown_keys(catalog: Catalog) -> None:
    assert "abc123" in catalog.text("ko", "error.generic", error_id="abc123")
    with pytest.raises(KeyError):
        catalog.text("en", "no.such.message")
