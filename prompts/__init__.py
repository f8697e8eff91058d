"""Every prompt of the bot as a `NAME.LANG.md` file; code loads them by name through `bot.llm.prompts`."""
