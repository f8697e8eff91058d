"""Application commands as Discord stores them, and turning a test's call into interaction ``data``.

A bulk overwrite (PUT .../commands) replaces the whole list; Discord keeps a command's id when a
command of the same name and type is overwritten. The option types below decide how a value is
sent (https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-type).
"""

from __future__ import annotations

from typing import Any

from ._models import FakeChannel, FakeRole, FakeUser

JSON = dict[str, Any]

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3


class FakeDiscordUsageError(ValueError):
    """The test asked for something the synced command tree (or the world) does not allow."""


class Resolved:
    """Collects ``data.resolved`` entries for USER/CHANNEL/ROLE/ATTACHMENT options."""

    def __init__(self) -> None:
        self.data: JSON = {}

    def add(self, kind: str, object_id: int, payload: JSON) -> None:
        self.data.setdefault(kind, {})[str(object_id)] = payload


def find_command(commands: list[JSON], name: str, command_type: int) -> JSON | None:
    return next((c for c in commands if c["name"] == name and c.get("type", 1) == command_type), None)


def build_options(
    path: list[str],
    schema: list[JSON],
    values: dict[str, Any],
    convert: Any,
    command_name: str,
) -> list[JSON]:
    """Nest ``values`` under the sub-command path, converting each by the option's declared type."""
    if path:
        head, rest = path[0], path[1:]
        sub = next((o for o in schema if o["name"] == head and o["type"] in {SUB_COMMAND, SUB_COMMAND_GROUP}), None)
        if sub is None:
            names = [o["name"] for o in schema if o["type"] in {SUB_COMMAND, SUB_COMMAND_GROUP}]
            raise FakeDiscordUsageError(f"/{command_name}: no sub-command {head!r}; known: {names}")
        inner = build_options(rest, sub.get("options", []), values, convert, command_name)
        return [{"type": sub["type"], "name": head, "options": inner}]
    if any(o["type"] in {SUB_COMMAND, SUB_COMMAND_GROUP} for o in schema):
        names = [o["name"] for o in schema]
        raise FakeDiscordUsageError(f"/{command_name} needs a sub-command, one of {names}")
    by_name = {o["name"]: o for o in schema}
    unknown = set(values) - set(by_name)
    if unknown:
        raise FakeDiscordUsageError(f"/{command_name}: unknown option(s) {sorted(unknown)}; known: {sorted(by_name)}")
    missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
    if missing:
        raise FakeDiscordUsageError(f"/{command_name}: missing required option(s) {missing}")
    options = []
    for name, raw in values.items():
        option = by_name[name]
        value = convert(option, raw)
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise FakeDiscordUsageError(f"/{command_name} {name}={raw!r} is not one of its choices {choices}")
        check_range(command_name, option, value)
        options.append({"type": option["type"], "name": name, "value": value})
    return options


def check_range(command_name: str, option: JSON, value: Any) -> None:
    """Discord's client enforces min/max value and length before sending."""
    if option["type"] in {INTEGER, NUMBER}:
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise FakeDiscordUsageError(f"/{command_name} {option['name']}={value} outside [{low}, {high}]")
    if option["type"] == STRING:
        low, high = option.get("min_length"), option.get("max_length")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise FakeDiscordUsageError(f"/{command_name} {option['name']} length {len(value)} outside [{low}, {high}]")


def scalar_value(command_name: str, option: JSON, raw: Any) -> Any:
    """STRING/INTEGER/BOOLEAN/NUMBER values as Discord would send them."""
    kind = option["type"]
    expected: dict[int, tuple[type, ...]] = {STRING: (str,), INTEGER: (int,), BOOLEAN: (bool,), NUMBER: (int, float)}
    types = expected.get(kind)
    if types is None or not isinstance(raw, types) or (kind in {INTEGER, NUMBER} and isinstance(raw, bool)):
        raise FakeDiscordUsageError(f"/{command_name} {option['name']}: {raw!r} does not fit option type {kind}")
    return float(raw) if kind == NUMBER and isinstance(raw, int | float) else raw


def object_id(command_name: str, option: JSON, raw: Any) -> int:
    if isinstance(raw, FakeUser | FakeChannel | FakeRole):
        return raw.id
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    raise FakeDiscordUsageError(f"/{command_name} {option['name']}: pass a Fake object or an id, not {raw!r}")
