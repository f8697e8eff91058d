"""The StudyBuddy bot: a `commands.Bot` that holds the services and hosts the cogs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Services
from bot.errors import UserFacingError

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.help", "cogs.settings", "cogs.explain", "cogs.usage", "cogs.quiz", "cogs.til", "cogs.mydata")
GC_YOUNG_THRESHOLD = 50_000
# At shutdown, streams in progress get this long to show their final "interrupted" state.
SHUTDOWN_GRACE_S = 5.0
# discord.py sleeps through 429s shorter than this and raises on longer ones, so no reply hangs for minutes.
MAX_RATELIMIT_WAIT_S = 20.0


class KoreanTranslator(app_commands.Translator):
    """Gives Discord the Korean names of commands: `extras={"ko": ...}` on commands and groups,
    `locale_str(..., ko=...)` on parameters and choices."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.korean:
            return None
        if context.location in (
            app_commands.TranslationContextLocation.command_description,
            app_commands.TranslationContextLocation.group_description,
        ):
            extras = getattr(context.data, "extras", {})
            return str(extras["ko"]) if "ko" in extras else None
        return string.extras.get("ko")


def tune_garbage_collector() -> None:
    """Keeps the collector from stalling the event loop while many answers stream.

    discord.py, LangChain and pydantic leave a great many long-lived objects behind at start, and a
    streamed chunk allocates dozens more: with the default thresholds, full collections walking them
    all stalled the loop 150-200 ms several times a second under load (measured in
    benchmarks/explain.py). Frozen, the start-up objects are never walked again, and a larger young
    generation makes full collections rare.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)


def bot_intents() -> discord.Intents:
    """Only what the features need: guilds, and DMs for DM explanations (DM text needs no privileged intent)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.dm_messages = True
    return intents


class StudyBuddy(commands.Bot):
    def __init__(self, services: Services, *, extensions: Sequence[str] = EXTENSIONS) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            # No feature reads old messages from the cache; without it every edit leaves no object behind.
            max_messages=None,
        )
        self.services = services
        self._extensions = tuple(extensions)

    async def setup_hook(self) -> None:
        self.tree.error(self.on_app_command_error)
        await self.tree.set_translator(KoreanTranslator())
        for extension in self._extensions:
            await self.load_extension(extension)
        await self.sync_commands()
        tune_garbage_collector()

    async def sync_commands(self) -> bool:
        """Syncs the command tree only when it differs from the last sync (Discord rate-limits syncs).

        With `STUDYBUDDY_DEV_GUILD` the commands go to that guild, where changes show instantly.
        Returns whether a sync was sent.
        """
        dev_guild = self.services.settings.dev_guild
        guild = discord.Object(dev_guild) if dev_guild else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        translator = self.tree.translator or KoreanTranslator()
        payload = [
            await command.get_translated_payload(self.tree, translator)
            for command in self.tree.get_commands(guild=guild)
        ]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        key = f"command_tree:{self.application_id}:{dev_guild or 'global'}"
        if await self.services.bot_state.get(key) == digest:
            log.info("command tree unchanged since the last sync; not syncing")
            return False
        synced = await self.tree.sync(guild=guild)
        await self.services.bot_state.set(key, digest)
        log.info("synced %d commands to %s", len(synced), f"guild {dev_guild}" if dev_guild else "all guilds")
        return True

    async def language_for(self, interaction: discord.Interaction) -> str:
        return await self.services.languages.language(interaction.guild_id, interaction.locale)

    async def text_for(self, interaction: discord.Interaction, key: str, **params: object) -> str:
        return self.services.languages.text(await self.language_for(interaction), key, **params)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        command = interaction.command.qualified_name if interaction.command else None
        custom_id = interaction.data.get("custom_id") if interaction.data else None
        log.info(
            "interaction id=%s type=%s user=%s guild=%s channel=%s command=%s custom_id=%s",
            interaction.id,
            interaction.type.name,
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
            command,
            custom_id,
        )

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The one place where command failures become a short ephemeral message."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        message = await self.describe_error(interaction, cause)
        await self.reply_ephemeral(interaction, message)

    async def describe_error(self, interaction: discord.Interaction, error: BaseException) -> str:
        """The user's view of an error; unexpected ones are logged in full under an id the user can quote."""
        if isinstance(error, UserFacingError):
            return await self.text_for(interaction, error.key, **error.params)
        if isinstance(error, app_commands.CommandOnCooldown):
            return await self.text_for(interaction, "error.cooldown", seconds=max(1, round(error.retry_after)))
        if isinstance(error, app_commands.MissingPermissions):
            return await self.text_for(
                interaction, "error.missing_permissions", permissions=", ".join(error.missing_permissions)
            )
        if isinstance(error, app_commands.BotMissingPermissions):
            return await self.text_for(
                interaction, "error.bot_missing_permissions", permissions=", ".join(error.missing_permissions)
            )
        if isinstance(error, app_commands.NoPrivateMessage):
            return await self.text_for(interaction, "error.guild_only")
        if isinstance(error, app_commands.CheckFailure):
            return await self.text_for(interaction, "error.not_allowed")
        error_id = secrets.token_hex(4)
        log.error(
            "error id=%s interaction=%s user=%s guild=%s command=%s",
            error_id,
            interaction.id,
            interaction.user.id,
            interaction.guild_id,
            interaction.command.qualified_name if interaction.command else None,
            exc_info=error,
        )
        return await self.text_for(interaction, "error.generic", error_id=error_id)

    @contextlib.asynccontextmanager
    async def answering_errors(self, interaction: discord.Interaction) -> AsyncIterator[None]:
        """For buttons and forms (which `tree.on_error` does not see): the same short message and error id."""
        try:
            yield
        except Exception as error:
            await self.reply_ephemeral(interaction, await self.describe_error(interaction, error))

    @staticmethod
    async def reply_ephemeral(interaction: discord.Interaction, content: str) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(content, ephemeral=True)
            else:
                await interaction.response.send_message(content, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell user %s about an error (interaction %s)", interaction.user.id, interaction.id)

    async def close(self) -> None:
        """Graceful shutdown: interrupted answers are marked as such, then Discord and the database close."""
        try:
            if self.services.streams.interrupt_all():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SHUTDOWN_GRACE_S):
                        await self.services.streams.wait_idle()
            # Unloading runs each cog's cog_unload, which cancels its timers (quiz reveals) before Discord closes.
            for extension in list(self.extensions):
                with contextlib.suppress(commands.ExtensionError):
                    await self.unload_extension(extension)
            await super().close()
        finally:
            await self.services.aclose()


def studybuddy_of(interaction: discord.Interaction) -> StudyBuddy:
    """The bot a button or form callback runs in (discord.py types `interaction.client` as a plain Client)."""
    assert isinstance(interaction.client, StudyBuddy)
    return interaction.client
