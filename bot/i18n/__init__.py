"""The message catalog: every user-facing string, in Korean and English.

Messages live in `ko.toml` and `en.toml` beside this module, keyed by dotted names. Korean is
the study group's language and comes first; any other Discord locale falls back to English.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "en"


def language_for(locale: object | None) -> str:
    """Maps a Discord locale ("ko", "en-US", discord.Locale.korean, ...) to a catalog language."""
    value = str(getattr(locale, "value", locale) or "").lower()
    return "ko" if value.startswith("ko") else DEFAULT_LANGUAGE


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Catalog:
    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        self._messages = messages

    @classmethod
    def load(cls) -> Catalog:
        """Each language is `LANG.toml` plus any `LANG.FEATURE.toml` beside it (one file per feature keeps
        a growing catalog readable); a key defined twice is an error, not a silent override."""
        folder = resources.files(__name__)
        messages: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            files = sorted(
                (entry for entry in folder.iterdir() if entry.name.startswith(f"{language}.")),
                key=lambda entry: (entry.name != f"{language}.toml", entry.name),
            )
            merged: dict[str, str] = {}
            for entry in files:
                if not entry.name.endswith(".toml"):
                    continue
                part = _flatten(tomllib.loads(entry.read_text(encoding="utf-8")))
                twice = merged.keys() & part.keys()
                if twice:
                    raise ValueError(f"{entry.name} defines keys already defined: {sorted(twice)[:5]}")
                merged.update(part)
            messages[language] = merged
        return cls(messages)

    def keys(self, language: str) -> set[str]:
        return set(self._messages[language])

    def text(self, locale: object | None, key: str, **params: object) -> str:
        language = language_for(locale)
        template = self._messages[language].get(key) or self._messages[DEFAULT_LANGUAGE].get(key)
        if template is None:
            raise KeyError(f"no message {key!r} in the catalog")
        return template.format(**params) if params else template


def language_of_text(text: str) -> str:
    """A DM carries no locale: answer in Korean when the question has Hangul in it."""
    return "ko" if any("\uac00" <= char <= "\ud7a3" or "\u3131" <= char <= "\u318e" for char in text) else "en"
