"""The core must not know Discord: services, storage and chains are tested and reused without it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISCORD_FREE = ["bot/services", "bot/storage", "bot/llm", "bot/i18n", "bot/streaming", "bot/config.py"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("part", DISCORD_FREE)
def test_core_never_imports_discord(part: str) -> None:
    target = ROOT / part
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    for path in files:
        offenders = {name for name in imported_modules(path) if name == "discord" or name.startswith("discord.")}
        assert not offenders, f"{path.relative_to(ROOT)} imports {offenders}"


def test_sql_lives_only_in_storage() -> None:
    for path in sorted((ROOT / "cogs").rglob("*.py")) + sorted((ROOT / "bot").rglob("*.py")):
        if "storage" in path.parts:
            continue
        assert "aiosqlite" not in imported_modules(path), f"{path.relative_to(ROOT)} talks to SQLite directly"


def test_every_extension_imports() -> None:
    import importlib

    from bot.bot import EXTENSIONS

    for name in EXTENSIONS:
        assert hasattr(importlib.import_module(name), "setup"), name
