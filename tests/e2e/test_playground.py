"""`studybuddy playground`: scripted sessions against the real bot, asserted on the transcript a person reads."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.playground import run_playground
from tests.e2e.test_quiz import CHOICE_BANK
from tests.fakes.openai_server import FakeOpenAI, expected_answer

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 09:00 in Seoul


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(token_delay_s=0.01, tokens=40) as server:
        yield server


async def play(
    tmp_path: Path, script: str, *, llm: FakeOpenAI | None = None, db: Path | None = None, **overrides: Any
) -> str:
    """Runs `script` in the playground and returns the transcript (exit code checked)."""
    values: dict[str, Any] = {"user_cooldown_s": 0.0, "llm_timeout_s": 5.0, "database": tmp_path / "unused.db"}
    if llm is not None:
        values |= {"openai_api_key": llm.api_key, "openai_base_url": llm.base_url}
    settings = Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]
    out = io.StringIO()
    code = await run_playground(settings, script=textwrap.dedent(script).splitlines(), out=out, start=START, db=db)
    assert code == 0, out.getvalue()
    return out.getvalue()


def block(transcript: str, number: int) -> str:
    """The last rendering of message [number]: its header line and indented body."""
    found = re.findall(rf"^\[{number}\] .*\n(?:(?: {{4}}.*|)\n)*", transcript, re.MULTILINE)
    assert found, f"no message [{number}] in:\n{transcript}"
    return str(found[-1])


async def test_explain_streams_and_the_transcript_shows_the_final_answer(tmp_path: Path, llm: FakeOpenAI) -> None:
    transcript = await play(tmp_path, '/explain topic:"EC2 Auto Scaling" how:쉽게', llm=llm)
    [request] = llm.requests
    answer = block(transcript, 1)
    assert 'alice @ #study > /explain topic:"EC2 Auto Scaling" how:쉽게' in transcript
    assert answer.startswith("[1] StudyBuddy (bot) · #study\n")
    assert expected_answer(request.prompt_text, llm.tokens) in answer.replace("\n    ", "\n")
    edits = int(re.search(r"\(written in (\d+) edits\)", answer)[1])  # type: ignore[index]
    assert edits > 1
    assert "[1 Stop]" not in answer and "[1 멈추기]" not in answer  # no Stop button once done


async def test_without_a_model_explain_answers_not_configured(tmp_path: Path) -> None:
    transcript = await play(tmp_path, "as bob\n/explain topic:EC2")
    assert "model    none configured" in transcript
    assert "No AI model is configured" in block(transcript, 1)
    assert "only bob sees this" in block(transcript, 1)


async def test_a_dm_conversation(tmp_path: Path, llm: FakeOpenAI) -> None:
    transcript = await play(tmp_path, "dm: what is EBS?\nin dm\ndm: and snapshots?", llm=llm)
    first, second = block(transcript, 1), block(transcript, 2)
    assert first.startswith("[1] StudyBuddy (bot) · DM with alice")
    assert expected_answer("what is EBS?", llm.tokens) in first.replace("\n    ", "\n")
    assert "alice @ dm > dm: and snapshots?" in transcript
    assert [len(r.messages) for r in llm.requests] == [2, 4]  # the follow-up continues the conversation
    assert "[1 New conversation]" in second


async def test_a_quiz_with_two_members_answering(tmp_path: Path) -> None:
    bank = tmp_path / "cloud.yaml"
    bank.write_text(CHOICE_BANK, encoding="utf-8")
    transcript = await play(
        tmp_path,
        f"""
        as mod
        /quiz bank import file:{bank}
        /quiz start topic:cloud count:1 seconds:30
        as alice
        click 1
        as bob
        click 2
        time +1m
        """,
    )
    question = re.search(r"^\[(\d+)\] StudyBuddy \(bot\) · #study\n    ┃ \*\*문제 1/1", transcript, re.MULTILINE)
    assert question, transcript
    number = int(question[1])
    assert "[1 A] [2 B] [3 C] [4 D]" in transcript
    assert transcript.count("only alice sees this") == 1 and transcript.count("only bob sees this") == 1
    reveal = block(transcript, number)
    assert "edited" in reveal.splitlines()[0]
    assert "답한 사람 2명" in reveal
    assert "퀴즈 끝" in transcript  # the scoreboard, after the reading pause
    assert "⏰ 2026-11-25 09:00:30 (Asia/Seoul)" in transcript  # the reveal, when the time was up
    assert "⏰ now 2026-11-25 09:01 (Asia/Seoul)" in transcript


async def test_the_daily_quiz_fires_when_time_moves_a_day(tmp_path: Path) -> None:
    transcript = await play(
        tmp_path,
        """
        as mod
        /daily setup channel:#quiz time:09:30 reveal_after:2
        time +1d
        """,
    )
    posted = transcript.index("⏰ 2026-11-25 09:30 (Asia/Seoul)")
    question = re.search(r"^\[(\d+)\] StudyBuddy \(bot\) · #quiz\n    ┃ \*\*📅 오늘의 퀴즈", transcript, re.MULTILINE)
    assert question and question.start() > posted, transcript
    revealed = transcript.index("⏰ 2026-11-25 11:30 (Asia/Seoul)")
    assert "edited" in block(transcript, int(question[1])).splitlines()[0]
    assert revealed > question.start()
    assert transcript.rstrip().endswith("⏰ now 2026-11-26 09:00 (Asia/Seoul)")


async def test_malformed_lines_are_explained_and_the_session_goes_on(tmp_path: Path) -> None:
    transcript = await play(
        tmp_path,
        """
        /nope
        /explain
        /quiz start topic:aws count:many
        /quiz begin
        /explain topic:"EC2
        click 9
        as zed
        in #nowhere
        time -1d
        fly away
        /help
        """,
    )
    notes = [line for line in transcript.splitlines() if line.startswith("  ! ")]
    assert notes == [
        "  ! unknown command /nope; commands: " + notes[0].split("commands: ")[1],
        "  ! /explain needs topic: (What to explain, e.g. EC2 Auto Scaling (several: separate them with commas))",
        "  ! /quiz start count: 'many' is not a whole number",
        "  ! /quiz has no sub-command 'begin'; sub-commands: " + notes[3].split("sub-commands: ")[1],
        '  ! cannot read that line (No closing quotation): close the quote, e.g. topic:"EC2 Auto Scaling"',
        "  ! no message with buttons that alice can see",
        "  ! unknown member 'zed'; members: mod, alice, bob",
        "  ! unknown channel #nowhere; channels: #study, #lounge, #quiz, or `in dm`",
        "  ! time only moves forward: write e.g. `time +1d`",
        "  ! unknown line 'fly': type `help` for what the playground understands",
    ]
    assert "/explain" in notes[0] and "start" in notes[3]
    assert "StudyBuddy 명령어" in block(transcript, 1)  # the session went on


async def test_a_button_that_does_not_exist_on_a_message(tmp_path: Path) -> None:
    transcript = await play(tmp_path, "/quiz start topic:aws count:1\nclick 7\nclick Nope\nclick 1 on 99")
    assert "has no button 7 (it has " in transcript
    assert "has no button 'Nope'; buttons: " in transcript
    assert "there is no message [99]" in transcript


async def test_a_kept_database_finds_its_server_again(tmp_path: Path) -> None:
    kept = tmp_path / "kept.db"
    await play(tmp_path, "as mod\n/daily setup channel:#quiz time:09:30", db=kept)
    transcript = await play(tmp_path, "/daily show", db=kept)
    assert f"database {kept} (kept)" in transcript
    shown = block(transcript, 1)
    assert "• 채널: #quiz" in shown and "• 시각: 09:30 (Asia/Seoul)" in shown


def test_the_command_runs_a_script_without_a_discord_token(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text("/help\nquit\n/explain topic:never-reached\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "OPENAI_", "STUDYBUDDY_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "playground", "--script", str(script)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "StudyBuddy 명령어" in result.stdout
    assert "never-reached" not in result.stdout
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.db"))  # the throw-away database is not left behind
    usage = subprocess.run(
        [sys.executable, "-m", "bot", "playground", "--help"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "--script FILE" in usage.stdout and "click 2 on 3" in usage.stdout and "time +1d" in usage.stdout
    failed = subprocess.run(
        [sys.executable, "-m", "bot", "playground", "--script", str(script), "--db", str(tmp_path)],  # a directory
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and "The bot failed to start" in failed.stderr


# Written last, against the TIL feature that was being built at the same time (cogs/til): a post through the
# form lands in the forum as its own post, with the forum tag applied.
async def test_a_til_post_lands_in_the_forum(tmp_path: Path) -> None:
    transcript = await play(
        tmp_path,
        """
        as mod
        /til setup channel:#til
        as alice
        /til post tags:AWS
        EC2 Auto Scaling basics
        submit
        field learned: Target tracking keeps the average CPU near a target.
        submit
        """,
    )
    assert "▣ form: " in transcript and "2. 오늘 공부한 내용 [learned] (long text)" in transcript
    assert "  ! modal field '오늘 공부한 내용' is required" in transcript  # the form stayed open
    post = re.search(r"^\[(\d+)\] StudyBuddy \(bot\) · #til > EC2 Auto Scaling basics \[AWS\]$", transcript, re.M)
    assert post, transcript
    body = block(transcript, int(post[1]))
    assert "Target tracking keeps the average CPU near a target." in body
    assert "TIL #1" in transcript and "#til > EC2 Auto Scaling basics" in transcript


async def test_the_readme_demo_script_tours_til_quiz_and_the_daily_quiz(tmp_path: Path) -> None:
    """docs/playground-demo.txt is what the README tells newcomers to run: keep it working."""
    transcript = await play(tmp_path, (ROOT / "docs" / "playground-demo.txt").read_text(encoding="utf-8"))
    assert "  ! " not in transcript  # every line was understood
    assert "#til > TIL 2026-12-02 EC2와 EBS [AWS]" in transcript  # the forum post, its tag applied
    assert "**스토리지**" in transcript  # the search hit, the match marked
    assert "📅" in transcript and "[1 A] [2 B] [3 C] [4 D]" in transcript  # the daily question, after `time +1d`
    assert "til-heatmap.png" in transcript  # /til streak with its picture
