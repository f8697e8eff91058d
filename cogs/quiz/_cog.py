"""The Discord side of quizzes: commands, question messages, timers, clicks, modals and charts."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from datetime import timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str
from discord.ext import commands

from bot.bot import StudyBuddy
from bot.errors import InvalidInput, UserFacingError
from bot.replies import InteractionSink, stream_generation
from bot.services.quiz.bank import MAX_BANK_BYTES, Question
from bot.services.quiz.charts import ChartLabels, render_stats_chart, supports_text
from bot.services.quiz.sessions import MAX_QUESTIONS, AnswerOutcome, AnswerStatus, OpenQuestion, QuizSession
from cogs.quiz._render import (
    LETTERS,
    correct_label,
    percent,
    question_embed,
    reveal_embed,
    scoreboard_embed,
)
from cogs.quiz._views import (
    AnswerModal,
    ModalSubmit,
    after_reveal_view,
    answer_view,
    drafts_view,
    question_digest,
    review_next_view,
    review_view,
)

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 20
READING_PAUSE = timedelta(seconds=5)
SOLO_SECONDS = 300  # a solo question waits for its member up to five minutes
MAX_GENERATE = 10


class Quiz(commands.Cog):
    quiz = app_commands.Group(
        name="quiz",
        description="Quizzes: play, review and see your progress",
        extras={"ko": "퀴즈: 풀고, 복습하고, 기록 보기"},
    )
    bank = app_commands.Group(
        name="bank",
        description="Question banks of this server (Manage Server)",
        parent=quiz,
        extras={"ko": "이 서버의 문제 은행 관리 (서버 관리 권한)"},
    )

    def __init__(self, bot: StudyBuddy) -> None:
        self.bot = bot
        self.services = bot.services
        self._drivers: dict[int, asyncio.Task[None]] = {}

    # --- lifecycle: timers survive restarts because sessions live in the database -----------------------------

    async def cog_load(self) -> None:
        for session in await self.services.quiz_sessions.running_sessions():
            # Solo questions wait for their member; daily questions are revealed by the daily scheduler.
            if not session.solo and not session.daily:
                self._drive(session.id)

    async def cog_unload(self) -> None:
        for task in self._drivers.values():
            task.cancel()
        await asyncio.gather(*self._drivers.values(), return_exceptions=True)

    def _drive(self, session_id: int) -> None:
        if session_id in self._drivers and not self._drivers[session_id].done():
            return
        task = asyncio.create_task(self._run_session(session_id), name=f"quiz-{session_id}")
        self._drivers[session_id] = task
        task.add_done_callback(lambda _: self._drivers.pop(session_id, None))

    async def _run_session(self, session_id: int) -> None:
        """Reveals each question when its time is up, then opens the next; a scoreboard at the end."""
        sessions = self.services.quiz_sessions
        try:
            while (current := await sessions.open_question(session_id)) is not None:
                await self.services.clock.sleep_until(current.closes_at)
                session = await sessions.session(session_id)
                if session is None or not session.running:
                    return
                await self._show_reveal(session, current)
                # Time to read the answer and its explanation before the next question pushes it up.
                await self.services.clock.sleep_until(self.services.clock.now() + READING_PAUSE)
                following = await sessions.advance(session_id, from_position=current.position)
                if following is None:
                    await self._post_scoreboard(session, stopped=False)
                    return
                if following.position != current.position:
                    await self._post_question(session, following)
        except asyncio.CancelledError:
            raise
        except discord.HTTPException as error:
            log.warning("quiz %s: Discord refused a message (%s); stopping the quiz", session_id, error)
            with contextlib.suppress(UserFacingError):
                await sessions.stop(session_id, self.bot.user.id if self.bot.user else 0, is_moderator=True)
        except Exception:
            log.exception("quiz %s: the timer failed", session_id)

    def _text(self, language: str, key: str, **params: object) -> str:
        return self.services.languages.text(language, key, **params)

    def _channel(self, channel_id: int) -> discord.PartialMessageable:
        return self.bot.get_partial_messageable(channel_id)

    async def _post_question(self, session: QuizSession, current: OpenQuestion) -> None:
        language = session.language
        message = await self._channel(session.channel_id).send(
            embed=question_embed(
                lambda key, **p: self._text(language, key, **p),
                current.question,
                position=current.position,
                count=session.question_count,
                closes_at_unix=int(current.closes_at.timestamp()),
            ),
            view=self._answer_view(session, current),
        )
        await self.services.quiz_sessions.set_message(session.id, current.position, message.id)

    async def _show_reveal(self, session: QuizSession, current: OpenQuestion) -> None:
        result = await self.services.quiz_sessions.reveal(session.id, current.position)
        if current.message_id is None:
            return
        language = session.language
        embed = reveal_embed(
            lambda key, **p: self._text(language, key, **p),
            result.question,
            position=current.position,
            count=session.question_count,
            correct_user_ids=result.correct_user_ids,
            answered=result.answered,
        )
        view = after_reveal_view(session.id, current.position, self._text(language, "quiz.explain_more"), None)
        await self._channel(session.channel_id).get_partial_message(current.message_id).edit(embed=embed, view=view)

    async def _post_scoreboard(self, session: QuizSession, *, stopped: bool) -> None:
        board = await self.services.quiz_sessions.scoreboard(session.id)
        rows = [(row.user_id, row.correct, row.answered) for row in board.rows]
        embed = scoreboard_embed(
            lambda key, **p: self._text(session.language, key, **p), session.topic, rows, stopped=stopped
        )
        await self._channel(session.channel_id).send(embed=embed)

    # --- /quiz start, solo, stop ---------------------------------------------------------------------------

    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        topics = await self.services.quiz_catalog.topics(interaction.guild_id)
        return [
            app_commands.Choice(name=f"{info.topic} ({sum(info.question_count.values())})", value=info.topic)
            for info in topics
            if current.casefold() in info.topic.casefold()
        ][:25]

    @quiz.command(name="start", extras={"ko": "이 채널에서 모두가 함께 푸는 퀴즈를 시작해요."})
    @app_commands.describe(
        topic=locale_str("Topic, e.g. aws, adsp, langchain", ko="주제, 예: aws, adsp, langchain"),
        count=locale_str("How many questions", ko="문제 수"),
        seconds=locale_str("Seconds per question", ko="문제당 제한 시간(초)"),
    )
    @app_commands.autocomplete(topic=topic_autocomplete)
    @app_commands.guild_only()
    async def start(
        self,
        interaction: discord.Interaction,
        topic: str,
        count: app_commands.Range[int, 1, MAX_QUESTIONS] = 5,
        seconds: app_commands.Range[int, 10, 120] = DEFAULT_SECONDS,
    ) -> None:
        """Start a quiz everyone in this channel can play."""
        language, session, current = await self._open_session(interaction, topic, count, solo=False, seconds=seconds)
        await interaction.response.send_message(
            self._text(
                language,
                "quiz.starting",
                user=interaction.user.mention,
                count=session.question_count,
                topic=session.topic,
            )
        )
        await self._post_question(session, current)
        self._drive(session.id)

    @quiz.command(name="solo", extras={"ko": "나만 보는 퀴즈를 내 속도로 풀어요."})
    @app_commands.describe(
        topic=locale_str("Topic, e.g. aws, adsp, langchain", ko="주제, 예: aws, adsp, langchain"),
        count=locale_str("How many questions", ko="문제 수"),
    )
    @app_commands.autocomplete(topic=topic_autocomplete)
    async def solo(
        self, interaction: discord.Interaction, topic: str, count: app_commands.Range[int, 1, MAX_QUESTIONS] = 5
    ) -> None:
        """Play a private quiz at your own pace."""
        _, session, current = await self._open_session(interaction, topic, count, solo=True, seconds=SOLO_SECONDS)
        await interaction.response.send_message(
            embed=self._question_embed(session, current),
            view=self._answer_view(session, current),
            ephemeral=True,
        )

    async def _open_session(
        self, interaction: discord.Interaction, topic: str, count: int, *, solo: bool, seconds: int
    ) -> tuple[str, QuizSession, OpenQuestion]:
        """Starts a channel or solo quiz in the member's language; returns (language, session, first question)."""
        language = await self.bot.language_for(interaction)
        assert interaction.channel_id is not None
        session, current = await self.services.quiz_sessions.start(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            starter_id=interaction.user.id,
            topic=topic.strip().casefold(),
            count=count,
            language=language,
            solo=solo,
            seconds=seconds,
        )
        return language, session, current

    def _answer_modal(self, language: str, submit: ModalSubmit) -> AnswerModal:
        return AnswerModal(self._text(language, "quiz.answer_title"), self._text(language, "quiz.answer_label"), submit)

    def _answer_view(self, session: QuizSession, current: OpenQuestion) -> discord.ui.View:
        label = self._text(session.language, "quiz.answer_button")
        return answer_view(session.id, current.position, current.question, label)

    def _question_embed(self, session: QuizSession, current: OpenQuestion) -> discord.Embed:
        return question_embed(
            lambda key, **p: self._text(session.language, key, **p),
            current.question,
            position=current.position,
            count=session.question_count,
            closes_at_unix=None if session.solo else int(current.closes_at.timestamp()),
        )

    @quiz.command(name="stop", extras={"ko": "이 채널의 퀴즈를 멈춰요 (시작한 사람이나 관리자)."})
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction) -> None:
        """Stop this channel's quiz (its starter or a moderator)."""
        sessions = self.services.quiz_sessions
        running = [
            session
            for session in await sessions.running_sessions()
            if session.channel_id == interaction.channel_id and not session.solo and not session.daily
        ]
        if not running:
            raise InvalidInput("quiz.no_session_here")
        session = running[0]
        current = await sessions.open_question(session.id)
        stopped = await sessions.stop(
            session.id, interaction.user.id, is_moderator=interaction.permissions.manage_messages
        )
        driver = self._drivers.get(session.id)
        if driver is not None:
            driver.cancel()
        await interaction.response.send_message(
            self._text(stopped.language, "quiz.stopped_by", user=interaction.user.mention)
        )
        if current is not None:
            await self._show_reveal(session, current)
        await self._post_scoreboard(stopped, stopped=True)

    # --- clicks -----------------------------------------------------------------------------------------------

    async def on_answer(
        self,
        interaction: discord.Interaction,
        session_id: int,
        position: int,
        *,
        choice: int | None = None,
        text: str | None = None,
    ) -> None:
        sessions = self.services.quiz_sessions
        outcome = await sessions.answer(session_id, position, interaction.user.id, choice=choice, text=text)
        session = await sessions.session(session_id)
        language = await self.bot.language_for(interaction)
        if session is not None and session.solo and outcome.status is AnswerStatus.RECORDED:
            await self._solo_reveal(interaction, session, position, outcome)
            return
        await interaction.response.send_message(self._answer_reply(language, outcome, choice, text), ephemeral=True)

    def _answer_reply(self, language: str, outcome: AnswerOutcome, choice: int | None, text: str | None) -> str:
        if outcome.status is AnswerStatus.RECORDED:
            given = LETTERS[choice] if choice is not None else (text or "")
            return self._text(language, "quiz.answer_recorded", answer=given)
        return self._text(language, f"quiz.answer_{outcome.status.value}")

    async def _solo_reveal(
        self, interaction: discord.Interaction, session: QuizSession, position: int, outcome: AnswerOutcome
    ) -> None:
        result = await self.services.quiz_sessions.reveal(session.id, position)
        language = session.language
        embed = reveal_embed(
            lambda key, **p: self._text(language, key, **p),
            result.question,
            position=position,
            count=session.question_count,
            correct_user_ids=result.correct_user_ids,
            answered=result.answered,
        )
        embed.description = (
            self._text(language, "quiz.you_were_right" if outcome.correct else "quiz.you_were_wrong")
            + "\n\n"
            + (embed.description or "")
        )
        next_label = self._text(language, "quiz.next" if position + 1 < session.question_count else "quiz.see_score")
        view = after_reveal_view(session.id, position, self._text(language, "quiz.explain_more"), next_label)
        await interaction.response.edit_message(embed=embed, view=view)

    async def on_free_answer_button(self, interaction: discord.Interaction, session_id: int, position: int) -> None:
        language = await self.bot.language_for(interaction)

        async def submit(modal_interaction: discord.Interaction, value: str) -> None:
            await self.on_answer(modal_interaction, session_id, position, text=value)

        await interaction.response.send_modal(self._answer_modal(language, submit))

    async def on_solo_next(self, interaction: discord.Interaction, session_id: int, position: int) -> None:
        sessions = self.services.quiz_sessions
        session = await sessions.session(session_id)
        if session is None or session.starter_id != interaction.user.id:
            raise InvalidInput("quiz.answer_finished")
        following = await sessions.advance(session_id, from_position=position)
        if following is None:
            board = await sessions.scoreboard(session_id)
            rows = [(row.user_id, row.correct, row.answered) for row in board.rows]
            embed = scoreboard_embed(
                lambda key, **p: self._text(session.language, key, **p), session.topic, rows, stopped=False
            )
            await interaction.response.edit_message(embed=embed, view=None)
            return
        await interaction.response.edit_message(
            embed=self._question_embed(session, following),
            view=self._answer_view(session, following),
        )

    async def on_explain_more(self, interaction: discord.Interaction, session_id: int, position: int) -> None:
        """Streams a deeper explanation of a revealed question, privately; kept per question and language."""
        language = await self.bot.language_for(interaction)
        question = (await self.services.quiz_sessions.reveal(session_id, position)).question
        await self.explain_question(interaction, question, language)

    async def explain_question(self, interaction: discord.Interaction, question: Question, language: str) -> None:
        explain = self.services.explain
        cached = explain.cached_quiz_explanation(question, language)
        if cached is not None:
            await interaction.response.send_message(cached[:2000], ephemeral=True)
            return
        ticket = await explain.admit(interaction.user.id, interaction.guild_id)
        try:
            await interaction.response.defer(thinking=True, ephemeral=True)
            sink = InteractionSink(interaction, ephemeral=True)
            async with ticket:
                generation = explain.explain_quiz_question(ticket, interaction.guild_id, language, question)
                await stream_generation(
                    self.services,
                    generation,
                    sink,
                    stream_id=interaction.id,
                    owner_id=ticket.user_id,
                    language=language,
                )
        finally:
            ticket.release()

    # --- leaderboard and stats ------------------------------------------------------------------------------

    @quiz.command(name="leaderboard", extras={"ko": "이 서버의 퀴즈 순위를 보여줘요."})
    @app_commands.describe(period=locale_str("week, month or all", ko="week(주), month(월), all(전체)"))
    @app_commands.guild_only()
    async def leaderboard(
        self, interaction: discord.Interaction, period: Literal["week", "month", "all"] = "week"
    ) -> None:
        """This server's quiz leaderboard."""
        assert interaction.guild_id is not None
        language = await self.bot.language_for(interaction)
        rows = await self.services.quiz_stats.leaderboard(interaction.guild_id, period)
        lines = [
            self._text(language, "quiz.leader_line", rank=rank, user=f"<@{row.user_id}>", correct=row.correct,
                       answered=row.answered, accuracy=percent(row.accuracy))
            for rank, row in enumerate(rows, start=1)
        ]  # fmt: skip
        embed = discord.Embed(
            title=self._text(language, f"quiz.leaderboard_{period}"),
            description="\n".join(lines) or self._text(language, "quiz.nobody_played"),
            colour=discord.Colour.gold(),
        )
        await interaction.response.send_message(embed=embed)

    @quiz.command(name="stats", extras={"ko": "정답률, 연속 학습일, 복습할 문제 수를 그래프와 함께 보여줘요."})
    @app_commands.describe(user=locale_str("Whose stats (default: yours)", ko="누구의 기록 (기본: 나)"))
    async def stats(self, interaction: discord.Interaction, user: discord.User | None = None) -> None:
        """Accuracy per topic, streaks and reviews due, with a chart."""
        await interaction.response.defer(thinking=True)
        language = await self.bot.language_for(interaction)
        member = user or interaction.user
        stats = await self.services.quiz_stats.stats(interaction.guild_id, member.id)

        def text(key: str, **params: object) -> str:
            return self._text(language, key, **params)

        lines = [
            text(
                "quiz.stats_summary", answered=stats.answered, correct=stats.correct, accuracy=percent(stats.accuracy)
            ),
            text("quiz.stats_streak", current=stats.current_streak_days, best=stats.best_streak_days),
            text("quiz.stats_due", due=stats.due_reviews),
            "",
            *(
                text("quiz.stats_topic", topic=topic.topic, accuracy=percent(topic.accuracy),
                     correct=topic.correct, answered=topic.answered)
                for topic in stats.per_topic
            ),
        ]  # fmt: skip
        embed = discord.Embed(
            title=text("quiz.stats_title", user=member.display_name),
            description="\n".join(lines),
            colour=discord.Colour.blurple(),
        )
        # Without a Hangul font on the server the picture speaks English; the text above stays localized.
        chart_language = language if supports_text(text("quiz.chart_accuracy")) else "en"
        chart = await asyncio.to_thread(
            render_stats_chart,
            title=self._text(chart_language, "quiz.stats_title", user=member.display_name),
            per_topic=[(topic.topic, topic.accuracy, topic.answered) for topic in stats.per_topic],
            per_day=stats.answers_per_day,
            labels=ChartLabels(
                accuracy=self._text(chart_language, "quiz.chart_accuracy"),
                answers_per_day=self._text(chart_language, "quiz.chart_answers_per_day"),
                no_data=self._text(chart_language, "quiz.chart_no_data"),
            ),
        )
        embed.set_image(url="attachment://stats.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(chart), filename="stats.png"))

    # --- review (spaced repetition) ---------------------------------------------------------------------------

    @quiz.command(name="review", extras={"ko": "틀렸던 문제를 알맞은 때에 다시 풀어요 (간격 반복)."})
    async def review(self, interaction: discord.Interaction) -> None:
        """Answer your due review questions, privately."""
        language = await self.bot.language_for(interaction)
        embed, view = await self._next_review(interaction.user.id, interaction.guild_id, language)
        await interaction.response.send_message(embed=embed, view=view or discord.utils.MISSING, ephemeral=True)

    async def _next_review(
        self, user_id: int, guild_id: int | None, language: str
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        due = await self.services.quiz_review.due(user_id, guild_id, limit=1)
        if not due:
            return discord.Embed(description=self._text(language, "quiz.review_nothing_due")), None
        question = due[0]
        remaining = await self.services.quiz_review.due_count(user_id)
        embed = question_embed(
            lambda key, **p: self._text(language, key, **p), question, position=0, count=1, closes_at_unix=None
        )
        embed.title = self._text(language, "quiz.review_title", remaining=remaining, topic=question.topic)
        return embed, review_view(question, self._text(language, "quiz.answer_button"))

    async def on_review(self, interaction: discord.Interaction, digest: str, action: str) -> None:
        language = await self.bot.language_for(interaction)
        if action == "next":
            embed, view = await self._next_review(interaction.user.id, interaction.guild_id, language)
            await interaction.response.edit_message(embed=embed, view=view)
            return
        due = await self.services.quiz_review.due(interaction.user.id, interaction.guild_id, limit=50)
        question = next((q for q in due if question_digest(q.key) == digest), None)
        if question is None:
            await interaction.response.send_message(self._text(language, "quiz.review_already_done"), ephemeral=True)
            return
        if action == "free":

            async def submit(modal_interaction: discord.Interaction, value: str) -> None:
                await self._answer_review(modal_interaction, question, language, text=value)

            await interaction.response.send_modal(self._answer_modal(language, submit))
            return
        await self._answer_review(interaction, question, language, choice=int(action))

    async def _answer_review(
        self,
        interaction: discord.Interaction,
        question: Question,
        language: str,
        *,
        choice: int | None = None,
        text: str | None = None,
    ) -> None:
        outcome = await self.services.quiz_review.answer_review(
            interaction.user.id, interaction.guild_id, question.key, choice=choice, text=text
        )
        if outcome.status is not AnswerStatus.RECORDED:
            await interaction.response.send_message(self._text(language, "quiz.review_already_done"), ephemeral=True)
            return
        verdict = "quiz.you_were_right" if outcome.correct else "quiz.you_were_wrong"
        embed = discord.Embed(
            title=self._text(language, verdict),
            description=f"**{correct_label(question)}**\n\n{question.explanation}",
            colour=discord.Colour.green() if outcome.correct else discord.Colour.red(),
        )
        if outcome.next_due is not None:
            embed.set_footer(text=self._text(language, "quiz.review_next_due"))
            embed.timestamp = outcome.next_due
        view = review_next_view(question_digest(question.key), self._text(language, "quiz.next"))
        await interaction.response.edit_message(embed=embed, view=view)

    # --- generated questions (moderators) ---------------------------------------------------------------------

    @quiz.command(name="generate", extras={"ko": "AI가 새 문제를 만들고, 승인하면 서버 문제 은행에 넣어요 (관리자)."})
    @app_commands.describe(
        topic=locale_str("What the questions are about", ko="문제 주제"),
        count=locale_str("How many questions", ko="문제 수"),
    )
    @app_commands.guild_only()
    async def generate(
        self, interaction: discord.Interaction, topic: str, count: app_commands.Range[int, 1, MAX_GENERATE] = 5
    ) -> None:
        """Let the AI write new questions; approve them into this server's bank (quizmasters)."""
        assert interaction.guild_id is not None
        await self._require_quizmaster(interaction)
        language = await self.bot.language_for(interaction)
        generator = self.services.question_generator
        if generator is None:
            raise UserFacingError("error.llm_not_configured")
        ticket = await self.services.explain.admit(interaction.user.id, interaction.guild_id)
        try:
            await interaction.response.defer(thinking=True, ephemeral=True)
            async with ticket:
                report = await generator.generate(topic=topic, count=count, language=language)
            await self.services.usage.record(
                interaction.guild_id, interaction.user.id, report.input_tokens, report.output_tokens
            )
        finally:
            ticket.release()
        if not report.questions:
            await interaction.followup.send(self._text(language, "quiz.generate_none", dropped=report.dropped))
            return
        topic_id = report.questions[0].topic
        draft_ids = await self.services.quiz_catalog.save_drafts(
            interaction.guild_id, interaction.user.id, topic_id, language, report.questions
        )
        lines = [
            f"**{number}.** {question.text}\n   ✅ {correct_label(question)}"
            for number, question in enumerate(report.questions, start=1)
        ]
        embed = discord.Embed(
            title=self._text(language, "quiz.generate_title", count=len(report.questions), dropped=report.dropped),
            description="\n".join(lines)[:4000],
            colour=discord.Colour.orange(),
        )
        await interaction.followup.send(
            embed=embed,
            view=drafts_view(draft_ids, self._text(language, "quiz.approve"), self._text(language, "quiz.reject")),
        )

    async def on_drafts(self, interaction: discord.Interaction, action: str, draft_ids: list[int]) -> None:
        language = await self.bot.language_for(interaction)
        assert interaction.guild_id is not None  # drafts are only offered in a server
        try:
            await self._require_quizmaster(interaction)
        except UserFacingError as error:
            await interaction.response.send_message(self._text(language, error.key), ephemeral=True)
            return
        catalog = self.services.quiz_catalog
        done = 0
        for draft_id in draft_ids:
            with contextlib.suppress(InvalidInput):  # already decided (a double click) is fine
                if action == "approve":
                    await catalog.approve(interaction.guild_id, draft_id)
                else:
                    await catalog.reject(interaction.guild_id, draft_id)
                done += 1
        key = "quiz.drafts_approved" if action == "approve" else "quiz.drafts_rejected"
        await interaction.response.edit_message(content=self._text(language, key, count=done), view=None)

    # --- banks and quizmasters (Manage Server, or the quizmaster role) ----------------------------------------

    async def _require_quizmaster(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        roles = getattr(interaction.user, "roles", [])
        await self.services.quizmasters.ensure_quizmaster(
            interaction.guild_id, {role.id for role in roles}, manages_guild=interaction.permissions.manage_guild
        )

    @quiz.command(name="quizmaster", extras={"ko": "문제 은행과 AI 문제를 관리할 수 있는 역할을 정해요 (서버 관리)."})
    @app_commands.describe(
        role=locale_str("The quizmaster role (leave empty to clear)", ko="퀴즈 관리자 역할 (비우면 해제)")
    )
    @app_commands.guild_only()
    @app_commands.checks.has_permissions(manage_guild=True)
    async def quizmaster(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Choose the role that may manage quiz banks and generated questions (Manage Server)."""
        assert interaction.guild_id is not None
        language = await self.bot.language_for(interaction)
        await self.services.quizmasters.set_role(interaction.guild_id, role.id if role else None)
        message = (
            self._text(language, "quiz.quizmaster_set", role=role.mention)
            if role
            else self._text(language, "quiz.quizmaster_cleared")
        )
        await interaction.response.send_message(message, ephemeral=True)

    @bank.command(name="import", extras={"ko": "문제 은행 파일(YAML, Red 트리비아, Open Trivia DB JSON)을 가져와요."})
    @app_commands.describe(
        file=locale_str("A bank file: StudyBuddy YAML, Red trivia YAML or Open Trivia DB JSON", ko="문제 은행 파일"),
        language=locale_str("Language of imported trivia questions", ko="가져올 트리비아 문제의 언어"),
    )
    @app_commands.guild_only()
    async def bank_import(
        self, interaction: discord.Interaction, file: discord.Attachment, language: Literal["ko", "en"] = "ko"
    ) -> None:
        """Import a question bank into this server (all or nothing; quizmasters)."""
        assert interaction.guild_id is not None
        await self._require_quizmaster(interaction)
        reply_language = await self.bot.language_for(interaction)
        if file.size > MAX_BANK_BYTES:
            raise InvalidInput("quiz.import_too_large", limit_kb=MAX_BANK_BYTES // 1000)
        await interaction.response.defer(thinking=True, ephemeral=True)
        bank = await self.services.quiz_catalog.import_bank(
            interaction.guild_id, interaction.user.id, await file.read(), file.filename, language=language
        )
        await interaction.followup.send(
            self._text(reply_language, "quiz.bank_imported", bank=bank.id, count=len(bank.questions), topic=bank.topic),
            ephemeral=True,
        )

    @bank.command(name="list", extras={"ko": "이 서버의 문제 은행 목록을 보여줘요."})
    @app_commands.guild_only()
    async def bank_list(self, interaction: discord.Interaction) -> None:
        """List this server's question banks."""
        assert interaction.guild_id is not None
        language = await self.bot.language_for(interaction)
        banks = await self.services.quiz_catalog.banks(interaction.guild_id)
        lines = [
            f"{'✅' if info.enabled else '⛔'} `{info.id}` — {info.display_name(language)} "
            f"({info.topic}, {info.questions}){' 📦' if info.builtin else ''}"
            for info in banks
        ]
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True)

    @bank.command(name="enable", extras={"ko": "문제 은행을 켜요."})
    @app_commands.guild_only()
    async def bank_enable(self, interaction: discord.Interaction, bank: str) -> None:
        """Use a bank in this server's quizzes again."""
        await self._set_enabled(interaction, bank, enabled=True)

    @bank.command(name="disable", extras={"ko": "문제 은행을 꺼요."})
    @app_commands.guild_only()
    async def bank_disable(self, interaction: discord.Interaction, bank: str) -> None:
        """Leave a bank out of this server's quizzes."""
        await self._set_enabled(interaction, bank, enabled=False)

    async def _set_enabled(self, interaction: discord.Interaction, bank: str, *, enabled: bool) -> None:
        assert interaction.guild_id is not None
        await self._require_quizmaster(interaction)
        language = await self.bot.language_for(interaction)
        await self.services.quiz_catalog.set_enabled(interaction.guild_id, bank, enabled)
        key = "quiz.bank_enabled" if enabled else "quiz.bank_disabled"
        await interaction.response.send_message(self._text(language, key, bank=bank), ephemeral=True)

    @bank.command(name="export", extras={"ko": "문제 은행을 YAML 파일로 내보내요."})
    @app_commands.guild_only()
    async def bank_export(self, interaction: discord.Interaction, bank: str) -> None:
        """Export a bank as a YAML file (quizmasters)."""
        assert interaction.guild_id is not None
        await self._require_quizmaster(interaction)
        filename, data = await self.services.quiz_catalog.export(interaction.guild_id, bank)
        await interaction.response.send_message(file=discord.File(io.BytesIO(data), filename=filename), ephemeral=True)
