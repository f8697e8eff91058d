"""Loads the prompt files shipped in the `prompts` package.

A prompt is `prompts/NAME.LANG.md`, a LangChain template with `{variables}` (literal braces are
`{{ }}`). Korean and English versions of a prompt must take the same variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from langchain_core.prompts import PromptTemplate

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, language_for

PROMPT_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.(?P<language>[a-z]{2})\.md$")


class PromptError(Exception):
    pass


@dataclass(frozen=True)
class PromptFile:
    name: str
    language: str
    template: PromptTemplate


class PromptLibrary:
    def __init__(self, prompts: dict[tuple[str, str], PromptFile]) -> None:
        self._prompts = prompts

    @classmethod
    def load(cls, package: str = "prompts") -> PromptLibrary:
        prompts: dict[tuple[str, str], PromptFile] = {}
        for entry in resources.files(package).iterdir():
            match = PROMPT_FILE.match(entry.name)
            if not match:
                continue
            name, language = match["name"], match["language"]
            if language not in LANGUAGES:
                raise PromptError(f"{entry.name}: language {language!r} is not one of {LANGUAGES}")
            text = entry.read_text(encoding="utf-8").strip()
            if not text:
                raise PromptError(f"{entry.name}: the prompt is empty")
            try:
                template = PromptTemplate.from_template(text)
            except (ValueError, KeyError) as exc:
                raise PromptError(f"{entry.name}: {exc}") from exc
            prompts[name, language] = PromptFile(name, language, template)
        library = cls(prompts)
        library._check_languages_agree()
        return library

    def _check_languages_agree(self) -> None:
        for name in self.names():
            variables = {
                language: set(self._prompts[name, language].template.input_variables)
                for language in LANGUAGES
                if (name, language) in self._prompts
            }
            if DEFAULT_LANGUAGE not in variables:
                raise PromptError(f"{name}: an English version ({name}.{DEFAULT_LANGUAGE}.md) is required")
            if len({frozenset(v) for v in variables.values()}) > 1:
                raise PromptError(f"{name}: languages disagree on variables: {variables}")

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._prompts})

    def files(self) -> list[PromptFile]:
        return [self._prompts[key] for key in sorted(self._prompts)]

    def get(self, name: str, locale: object | None = DEFAULT_LANGUAGE) -> PromptTemplate:
        """The prompt in the reader's language, falling back to English."""
        language = language_for(locale)
        found = self._prompts.get((name, language)) or self._prompts.get((name, DEFAULT_LANGUAGE))
        if found is None:
            raise PromptError(f"no prompt named {name!r}")
        return found.template
