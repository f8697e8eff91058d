"""The playground's line language (`HELP` below), parsed into small commands: pure, no Discord, testable."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HELP = """\
Type what you would type in Discord:
  /explain topic:EC2 how:simply            a slash command; options are name:value
  /explain topic:"EC2 Auto Scaling"        quote values with spaces
  /quiz start topic:aws count:3            sub-commands before the options
  /daily setup channel:#quiz time:09:00    channels as #name, members as @name, yes/no for true/false
  /quiz bank import file:./my-bank.yaml    an attachment is a file path
  as alice | as bob | as mod               act as another member (mod is the moderator)
  in #study | in #lounge | in #quiz | in dm   where the next commands run
  dm: what is EBS?                         write to the bot in your DMs
  say: hello everyone                      write in the current channel
  click 2 | click "Explain more"           press a button on the latest message with buttons
  click 2 on 3                             ...or on message [3]
  fill VALUE | field NAME: VALUE           fill the open form: NAME is a number, label or [id]; a plain
                                           line fills the next field (the form is sent after the last)
  submit | cancel                          send or close the open form
  time +1d | time +2h30m | time 2026-12-01 09:00 Asia/Seoul   move the bot's clock; timers fire on the way
  wait                                     let the bot finish what it is doing
  help | quit                              this text | leave (the database is thrown away unless --db)
Messages are numbered [1], [2]... as they appear; buttons [1 A] [2 B]... by their place on the message."""


class LineError(ValueError):
    """A line the playground cannot act on; the message is shown as is and the session goes on."""


@dataclass(frozen=True)
class Slash:
    path: tuple[str, ...]  # ("quiz", "start")
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActAs:
    member: str


@dataclass(frozen=True)
class GoTo:
    channel: str  # "study" (from "#study") or "dm"


@dataclass(frozen=True)
class Say:
    text: str
    dm: bool


@dataclass(frozen=True)
class Click:
    button: int | str  # 1-based number or label
    on: int | None = None  # message number


@dataclass(frozen=True)
class Fill:
    value: str
    field: str | None = None  # by label or custom id; None: the next empty field


@dataclass(frozen=True)
class Submit:
    pass


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class TimeBy:
    delta: timedelta


@dataclass(frozen=True)
class TimeTo:
    when: datetime
    zone: ZoneInfo


@dataclass(frozen=True)
class Wait:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Quit:
    pass


Line = Slash | ActAs | GoTo | Say | Click | Fill | Submit | Cancel | TimeBy | TimeTo | Wait | Help | Quit

KEYWORDS = ("as", "in", "dm:", "say:", "click", "fill", "field", "submit", "cancel", "time", "wait", "help", "quit")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
DURATION = re.compile(r"^\+((?:\d+[wdhms])+)$")
DURATION_PART = re.compile(r"(\d+)([wdhms])")
OPTION = re.compile(r"^([\w-]+):(.*)$", re.DOTALL)
FIELD = re.compile(r"^field\s+(.+?)\s*:\s?(.*)$", re.DOTALL | re.IGNORECASE)
CLICK = re.compile(r"^click\s+(.+?)(?:\s+on\s+\[?(\d+)\]?)?$", re.IGNORECASE)


def parse(line: str, *, form_open: bool = False) -> Line | None:
    """One line; None for a blank line or a `#` comment. While a form is open, a plain line fills it."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    word, _, rest = text.partition(" ")
    keyword = word.lower()
    rest = rest.strip()
    if text.startswith("/"):
        return parse_slash(text)
    if keyword in ("quit", "exit") and not rest:
        return Quit()
    if keyword in ("help", "?") and not rest:
        return Help()
    if keyword == "wait" and not rest:
        return Wait()
    if keyword == "submit" and not rest:
        return Submit()
    if keyword == "cancel" and not rest:
        return Cancel()
    if keyword == "as" and rest:
        return ActAs(rest.removeprefix("@"))
    if keyword == "in" and rest:
        return GoTo(rest.strip("\"'").removeprefix("#").lower())
    lowered = text.lower()
    for prefix, dm in (("dm:", True), ("say:", False)):
        if lowered.startswith(prefix):
            said = text[len(prefix) :].strip()
            if not said:
                raise LineError(f"`{prefix}` needs some text after it, e.g. `{prefix} what is EBS?`")
            return Say(said, dm=dm)
    if keyword == "click":
        return parse_click(text)
    if keyword == "fill" and rest:
        return Fill(rest)
    if keyword == "field":
        found = FIELD.match(text)
        if not found:
            raise LineError("write `field NAME: value`, e.g. `field answer: S3`")
        return Fill(found[2].strip(), field=found[1].strip().strip('"'))
    if keyword == "time":
        return parse_time(rest)
    if form_open:
        return Fill(text)
    raise LineError(f"unknown line {word!r}: type `help` for what the playground understands")


def parse_slash(text: str) -> Slash:
    try:
        tokens = shlex.split(text[1:])
    except ValueError as exc:
        raise LineError(f'cannot read that line ({exc}): close the quote, e.g. topic:"EC2 Auto Scaling"') from None
    if not tokens:
        raise LineError("a slash command needs a name, e.g. `/help`")
    path: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        found = OPTION.match(token)
        if found is None:
            if options:
                raise LineError(f"{token!r} follows the options: write it as name:value (quote values with spaces)")
            path.append(token.lower())
            continue
        name = found[1].lower()
        if name in options:
            raise LineError(f"option {name!r} is given twice")
        options[name] = found[2]
    if not path:
        raise LineError("a slash command needs a name, e.g. `/help`")
    return Slash(tuple(path), options)


def parse_click(text: str) -> Click:
    found = CLICK.match(text)
    if found is None:
        raise LineError('write `click 2`, `click "Explain more"` or `click 2 on 3`')
    target = found[1].strip()
    on = int(found[2]) if found[2] else None
    if target.isdigit():
        return Click(int(target), on)
    return Click(target.strip('"').strip("'"), on)


def parse_duration(text: str) -> timedelta:
    found = DURATION.match(text.replace(" ", "").lower())
    if found is None:
        raise LineError(f"cannot read {text!r} as a duration: write e.g. +1d, +2h, +30m, +1d2h, +45s")
    delta = timedelta(0)
    for amount, unit in DURATION_PART.findall(found[1]):
        delta += timedelta(**{UNITS[unit]: int(amount)})
    return delta


def parse_time(rest: str) -> TimeBy | TimeTo:
    if not rest:
        raise LineError("write `time +1d` (or +2h, +30m) or `time 2026-12-01 09:00 Asia/Seoul`")
    if rest.startswith("+"):
        return TimeBy(parse_duration(rest))
    if rest.startswith("-"):
        raise LineError("time only moves forward: write e.g. `time +1d`")
    parts = rest.split()
    zone_name = parts[2] if len(parts) == 3 else "UTC"
    if len(parts) not in (2, 3):
        raise LineError(f"cannot read {rest!r} as a time: write e.g. `time 2026-12-01 09:00 Asia/Seoul`")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LineError(f"unknown time zone {zone_name!r}: use an IANA name such as Asia/Seoul or UTC") from None
    try:
        local = datetime.strptime(f"{parts[0]} {parts[1]} +0000", "%Y-%m-%d %H:%M %z")
    except ValueError:
        raise LineError(f"cannot read {parts[0]} {parts[1]!r} as a date and time: write YYYY-MM-DD HH:MM") from None
    return TimeTo(local.replace(tzinfo=zone), zone)
