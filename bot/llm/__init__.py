"""Prompts, chat-model and chain factories. Knows LangChain, never Discord."""
