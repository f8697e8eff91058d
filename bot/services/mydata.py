"""`/mydata`: everything the bot stores about a member, handed over as one file or erased at once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.errors import InvalidInput
from bot.services.til.export import MAX_EXPORT_BYTES, ExportFile
from bot.storage.mydata import MyDataRepository

log = logging.getLogger(__name__)

EXPORT_FORMAT = "studybuddy-mydata"
EXPORT_VERSION = 1
# JSON readers such as JavaScript keep integers exactly only up to 2**53 - 1; Discord ids are larger.
MAX_SAFE_INTEGER = 2**53 - 1


class MyDataService:
    def __init__(self, repo: MyDataRepository, now: Callable[[], datetime]) -> None:
        self._repo = repo
        self._now = now

    async def export(self, user_id: int) -> ExportFile:
        """One JSON file: the member's settings, TILs from every guild and their TIL preferences, quiz answers,
        review cards, LLM usage, DM history, and the guild records that name them, table by table as stored.
        Zipped when the JSON alone would not fit in a Discord attachment; InvalidInput
        "mydata.export_too_large" if even that does not."""
        now = self._now()
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "user_id": str(user_id),
            "exported_at": now.isoformat(),
            "tables": _json_safe(await self._repo.rows_of(user_id)),
        }
        name = f"{EXPORT_FORMAT}-{user_id}-{now.date().isoformat()}.json"
        # Years of answers and TILs make megabytes of JSON: written off the event loop.
        exported = await asyncio.to_thread(_export_file, name, document)
        if len(exported.data) > MAX_EXPORT_BYTES:
            raise InvalidInput("mydata.export_too_large", limit_mib=MAX_EXPORT_BYTES // 1024 // 1024)
        return exported

    async def delete(self, user_id: int) -> dict[str, int]:
        """Erases the member everywhere in one transaction (see MyDataRepository.delete): "table" -> rows
        deleted, "table.column" -> guild records that no longer name them."""
        counts = await self._repo.delete(user_id)
        log.info("deleted the data of user %s: %s", user_id, {name: n for name, n in counts.items() if n})
        return counts


def _export_file(name: str, document: dict[str, Any]) -> ExportFile:
    """The JSON, zipped when it alone would not fit in a Discord attachment."""
    exported = ExportFile(name, json.dumps(document, ensure_ascii=False, indent=2).encode())
    return _zipped(exported) if len(exported.data) > MAX_EXPORT_BYTES else exported


def _zipped(exported: ExportFile) -> ExportFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(exported.filename, exported.data)
    return ExportFile(f"{exported.filename}.zip", buffer.getvalue())


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return str(value)
    return value
