"""The chat model, built once per process (a client per request costs ~24 ms of event-loop CPU)."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from bot.config import Settings

# Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) accept any key, but the client insists on one.
LOCAL_SERVER_KEY = "not-needed"


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """ChatOpenAI for OpenAI or any compatible server; None when no model is configured."""
    if not settings.llm_configured:
        return None
    api_key = settings.openai_api_key or SecretStr(LOCAL_SERVER_KEY)
    return ChatOpenAI(
        model=settings.model,
        base_url=settings.openai_base_url,
        api_key=api_key,
        streaming=True,
        stream_usage=True,
        timeout=settings.llm_timeout_s,
        max_retries=1,
    )
