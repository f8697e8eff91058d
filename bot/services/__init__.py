"""Domain services: async classes with the bot's behaviour. They never import discord."""
