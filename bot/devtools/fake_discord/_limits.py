"""Payload validation with Discord's documented limits and its error shape.

Discord rejects an invalid body with HTTP 400 and
``{"code": 50035, "message": "Invalid Form Body", "errors": {...}}`` where ``errors`` mirrors the
body's structure down to the offending field, ending in ``{"_errors": [{"code", "message"}]}``.
An otherwise valid message with nothing to show is rejected with code 50006.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELD_LIMITS = {"title": 256, "description": 4096}
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
SELECT_OPTIONS_MAX = 25
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_MAX_LENGTH = 4000
NONCE_MAX = 25


class FormErrors:
    """Collects errors at nested paths and renders them the way Discord nests them."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: object, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def count(self, path: tuple[str | int, ...], items: list[Any], low: int, high: int) -> None:
        if not low <= len(items) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def __bool__(self) -> bool:
        return bool(self.tree)


def embed_text_length(embed: JSON) -> int:
    """Characters Discord counts towards the 6000 total of a message's embeds."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    return total


def validate_embeds(errors: FormErrors, embeds: list[JSON]) -> None:
    if len(embeds) > EMBEDS_MAX:
        errors.add(("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    for index, embed in enumerate(embeds):
        for key, limit in EMBED_FIELD_LIMITS.items():
            errors.max_length(("embeds", index, key), embed.get(key), limit)
        errors.max_length(("embeds", index, "footer", "text"), (embed.get("footer") or {}).get("text"), FOOTER_TEXT_MAX)
        errors.max_length(("embeds", index, "author", "name"), (embed.get("author") or {}).get("name"), AUTHOR_NAME_MAX)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            errors.add(
                ("embeds", index, "fields"), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBED_FIELDS_MAX} or fewer in length."
            )
        for number, item in enumerate(fields):
            errors.max_length(("embeds", index, "fields", number, "name"), item.get("name"), FIELD_NAME_MAX)
            errors.max_length(("embeds", index, "fields", number, "value"), item.get("value"), FIELD_VALUE_MAX)
    if sum(embed_text_length(embed) for embed in embeds) > EMBED_TOTAL_MAX:
        errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}")


def validate_components(errors: FormErrors, rows: list[JSON]) -> None:
    """Classic components: up to 5 action rows of up to 5 buttons or one select."""
    top = [row for row in rows if row.get("type") == 1]
    if len(top) > ACTION_ROWS_MAX:
        errors.add(("components",), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {ACTION_ROWS_MAX} in length.")
    for index, row in enumerate(rows):
        if row.get("type") != 1:
            continue  # components v2 layouts are stored, not validated
        items = row.get("components") or []
        errors.count(("components", index, "components"), items, 1, ROW_ITEMS_MAX)
        if any(item.get("type") != 2 for item in items) and len(items) > 1:
            errors.add(
                ("components", index, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for number, item in enumerate(items):
            path: tuple[str | int, ...] = ("components", index, "components", number)
            errors.max_length((*path, "label"), item.get("label"), BUTTON_LABEL_MAX)
            errors.max_length((*path, "custom_id"), item.get("custom_id"), CUSTOM_ID_MAX)
            if item.get("type") == 3:
                errors.count((*path, "options"), item.get("options") or [], 1, SELECT_OPTIONS_MAX)


def validate_nonce(errors: FormErrors, nonce: object) -> None:
    """Create Message's ``nonce``: null, an integer, or a string of at most 25 characters."""
    if nonce is None:
        return
    if isinstance(nonce, bool) or not isinstance(nonce, str | int):
        errors.add(("nonce",), "NONCE_TYPE_INVALID_TYPE", "This field must be a string or integer.")
    elif len(str(nonce)) > NONCE_MAX:
        errors.add(("nonce",), "NONCE_TYPE_TOO_LONG", f"Must be {NONCE_MAX} or fewer characters long.")


def validate_message(payload: JSON, *, create: bool = False) -> FormErrors:
    """Field-level limits of a message create or edit body (only the fields present are checked)."""
    errors = FormErrors()
    errors.max_length(("content",), payload.get("content"), CONTENT_MAX)
    if create:
        validate_nonce(errors, payload.get("nonce"))
    validate_embeds(errors, payload.get("embeds") or [])
    validate_components(errors, payload.get("components") or [])
    return errors


def is_empty_message(content: str | None, embeds: list[JSON], attachments: list[Any], components: list[JSON]) -> bool:
    """Discord refuses (50006) a message with nothing to display."""
    return not (content or embeds or attachments or components)


def validate_modal(modal: JSON) -> FormErrors:
    errors = FormErrors()
    errors.max_length(("data", "title"), modal.get("title"), MODAL_TITLE_MAX)
    errors.max_length(("data", "custom_id"), modal.get("custom_id"), CUSTOM_ID_MAX)
    components = modal.get("components") or []
    errors.count(("data", "components"), components, 1, MODAL_COMPONENTS_MAX)
    for index, component in enumerate(components):
        path: tuple[str | int, ...] = ("data", "components", index)
        errors.max_length((*path, "label"), component.get("label"), TEXT_INPUT_LABEL_MAX)
        for inner_path, item in iter_text_inputs(component, path):
            errors.max_length((*inner_path, "label"), item.get("label"), TEXT_INPUT_LABEL_MAX)
            errors.max_length((*inner_path, "custom_id"), item.get("custom_id"), CUSTOM_ID_MAX)
            errors.max_length((*inner_path, "value"), item.get("value"), TEXT_INPUT_MAX_LENGTH)
            for key in ("max_length", "min_length"):
                value = item.get(key)
                if isinstance(value, int) and not 0 <= value <= TEXT_INPUT_MAX_LENGTH:
                    message = f"Int value should be less than or equal to {TEXT_INPUT_MAX_LENGTH}."
                    errors.add((*inner_path, key), "NUMBER_TYPE_MAX", message)
    return errors


def iter_text_inputs(component: JSON, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], JSON]]:
    """Text inputs of a modal's top-level component: an action row (type 1) or a label (type 18)."""
    if component.get("type") == 4:
        return [(path, component)]
    if component.get("type") == 1:
        return [
            (found_path, found)
            for number, inner in enumerate(component.get("components") or [])
            for found_path, found in iter_text_inputs(inner, (*path, "components", number))
        ]
    if component.get("type") == 18 and isinstance(component.get("component"), dict):
        return iter_text_inputs(component["component"], (*path, "component"))
    return []
