"""Data files shipped with the bot: the built-in question banks (`banks/*.yaml`) and their JSON Schema."""
