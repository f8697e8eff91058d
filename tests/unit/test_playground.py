"""The playground's line language, completion and rendering, without a bot; and its boundaries."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.playground import _lines as lines
from bot.playground._render import Names, inline, relative
from bot.playground._tui import suggestions

ROOT = Path(__file__).resolve().parents[2]

COMMANDS = [
    {
        "name": "explain",
        "options": [
            {"type": 3, "name": "topic", "required": True},
            {"type": 3, "name": "how"},
            {"type": 5, "name": "private"},
            {"type": 3, "name": "aspects", "choices": [{"name": "All", "value": "all"}]},
        ],
    },
    {
        "name": "quiz",
        "options": [
            {"type": 1, "name": "start", "options": [{"type": 3, "name": "topic", "required": True}]},
            {"type": 1, "name": "stop", "options": []},
            {"type": 2, "name": "bank", "options": [{"type": 1, "name": "list", "options": []}]},
        ],
    },
    {"name": "daily", "options": [{"type": 1, "name": "setup", "options": [{"type": 7, "name": "channel"}]}]},
]


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("/explain topic:EC2 how:simply", lines.Slash(("explain",), {"topic": "EC2", "how": "simply"})),
        ('/explain topic:"EC2 Auto Scaling"', lines.Slash(("explain",), {"topic": "EC2 Auto Scaling"})),
        ("/quiz start topic:aws count:3", lines.Slash(("quiz", "start"), {"topic": "aws", "count": "3"})),
        (
            "/daily setup channel:#quiz time:09:00",
            lines.Slash(("daily", "setup"), {"channel": "#quiz", "time": "09:00"}),
        ),
        ("as @Bob", lines.ActAs("Bob")),
        ("in #Study", lines.GoTo("study")),
        ("dm: what is EBS?", lines.Say("what is EBS?", dm=True)),
        ('click "Explain more"', lines.Click("Explain more")),
        ("click 2 on 3", lines.Click(2, on=3)),
        ("click 2 on [3]", lines.Click(2, on=3)),
        ("field learned: a: b", lines.Fill("a: b", field="learned")),
        ("time +1d2h", lines.TimeBy(timedelta(days=1, hours=2))),
        ("wait", lines.Wait()),
        ("  # a comment", None),
        ("", None),
    ],
)
def test_lines_are_read_as_discord_users_would_mean_them(line: str, parsed: lines.Line | None) -> None:
    assert lines.parse(line) == parsed


def test_an_absolute_time_is_read_in_its_zone() -> None:
    parsed = lines.parse("time 2026-12-01 09:00 Asia/Seoul")
    assert isinstance(parsed, lines.TimeTo)
    assert parsed.when == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_a_plain_line_fills_an_open_form_and_is_an_error_otherwise() -> None:
    assert lines.parse("S3 stores objects", form_open=True) == lines.Fill("S3 stores objects")
    with pytest.raises(lines.LineError, match="unknown line 'S3'"):
        lines.parse("S3 stores objects")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/explain topic:EC2 extra", "follows the options"),
        ("/explain topic:EC2 topic:S3", "given twice"),
        ("time +1 day", "cannot read"),
        ("time 2026-12-01 09:00 Mars/Olympus", "unknown time zone"),
        ("time 2026-13-01 09:00", "YYYY-MM-DD HH:MM"),
        ("click", "write `click 2`"),
        ("dm:", "needs some text"),
    ],
)
def test_malformed_lines_say_what_to_write(line: str, message: str) -> None:
    with pytest.raises(lines.LineError, match=message):
        lines.parse(line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/", ["/explain", "/quiz", "/daily"]),
        ("/qu", ["/quiz"]),
        ("/quiz ", ["start", "stop", "bank"]),
        ("/quiz bank ", ["list"]),
        ("/quiz start ", ["topic:"]),
        ("/explain ", ["topic:", "how:", "private:", "aspects:"]),
        ("/explain topic:EC2 ", ["how:", "private:", "aspects:"]),
        ("/explain private:", ["private:yes", "private:no"]),
        ("/explain aspects:a", ["aspects:all"]),
        ("/daily setup channel:#q", ["channel:#quiz"]),
        ("as a", ["alice"]),
        ("in #s", ["#study"]),
        ("cl", ["click "]),
    ],
)
def test_completion_comes_from_the_synced_command_tree(text: str, expected: list[str]) -> None:
    assert suggestions(text, COMMANDS, ["mod", "alice", "bob"], ["study", "quiz"]) == expected


def test_mentions_timestamps_and_links_read_as_in_the_discord_client() -> None:
    names = Names(users={1: "alice"}, channels={2: "study"}, roles={3: "Moderators"})
    now = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
    text = f"<@1> <@!1> <#2> <@&3> </quiz start:9> <t:{int(now.timestamp()) + 1800}:R> <t:{int(now.timestamp())}:F>"
    shown = inline(text + " https://discord.com/channels/7/2/8", names, now=now, zone=ZoneInfo("Asia/Seoul"))
    assert shown == "@alice @alice #study @Moderators /quiz start in 30 minutes 2026-11-25 09:00 (Asia/Seoul) #study"
    assert relative(-7200) == "2 hours ago" and relative(1) == "in 1 second"


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_playground_drives_the_bot_only_through_discord() -> None:
    """No shortcut into services or storage, and nothing from tests/: the playground ships in the package."""
    for path in sorted((ROOT / "bot" / "playground").glob("*.py")):
        names = imports(path)
        assert not {n for n in names if n.startswith(("bot.services", "bot.storage", "cogs", "tests"))}, path.name
