"""An open modal in the console: its fields filled in by name, as a person fills them in Slack.

`set reason The pushes stopped` fills one field; a choice takes one of its options (by value
or by the words shown); `submit` sends every field at once, as Slack's submit button does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.markup import escape


class FieldError(ValueError):
    """A field name or a choice that does not fit the form: the message says what would."""


class Form:
    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view
        self.fields = [b for b in view.get("blocks") or [] if b.get("type") == "input"]
        self.values: dict[str, str] = {}
        for block in self.fields:
            element = block.get("element", {})
            initial = (
                element.get("initial_value")
                or element.get("initial_date")
                or (element.get("initial_option") or {}).get("value")
            )
            if initial:
                self.values[block["block_id"]] = initial

    @staticmethod
    def _options(block: dict[str, Any]) -> list[dict[str, Any]]:
        return block.get("element", {}).get("options") or []

    def find(self, name: str) -> dict[str, Any]:
        """A field by its name (block id), its number, or the start of its label."""
        wanted = name.strip().lower()
        if wanted.isdigit() and 1 <= int(wanted) <= len(self.fields):
            return self.fields[int(wanted) - 1]
        for block in self.fields:
            if block["block_id"].lower() == wanted:
                return block
        by_label = [b for b in self.fields if b["label"]["text"].lower().startswith(wanted)] if wanted else []
        if len(by_label) == 1:
            return by_label[0]
        names = ", ".join(b["block_id"] for b in self.fields)
        raise FieldError(f"no field `{name}` in this form; its fields are {names} (`fields` shows them)")

    def set(self, name: str, text: str) -> str:
        """Fill in a field; returns its name."""
        block = self.find(name)
        options = self._options(block)
        if options and text.strip():
            wanted = text.strip().lower()
            match = [o for o in options if wanted in (o["value"].lower(), o["text"]["text"].lower())]
            if not match:
                shown = ", ".join(o["value"] for o in options)
                raise FieldError(f"`{block['block_id']}` is a choice: one of {shown}")
            text = match[0]["value"]
        if block.get("element", {}).get("type") == "datepicker" and text.strip():
            try:  # Slack's date picker gives a date, nothing else
                text = dt.date.fromisoformat(text.strip()).isoformat()
            except ValueError:
                raise FieldError(f"`{block['block_id']}` is a date: YYYY-MM-DD") from None
        if text.strip():
            self.values[block["block_id"]] = text
        else:
            self.values.pop(block["block_id"], None)
        return block["block_id"]

    def fill_next(self, text: str) -> None:
        """`submit <text>`: the text goes in the form's only field, or the first one still empty."""
        empty = [b for b in self.fields if b["block_id"] not in self.values]
        target = self.fields[0] if len(self.fields) == 1 else (empty[0] if empty else None)
        if target is None:
            raise FieldError("every field is filled in; change one with `set <field> <text>`, then `submit`")
        self.set(target["block_id"], text)

    def state(self) -> dict[str, Any]:
        """The form's values as Slack sends them with a view_submission."""
        out: dict[str, Any] = {}
        for block in self.fields:
            element, value = block.get("element", {}), self.values.get(block["block_id"])
            kind = element.get("type", "plain_text_input")
            if self._options(block):
                option = next((o for o in self._options(block) if o["value"] == value), None)
                entry = {"type": kind, "selected_option": option}
            elif kind == "datepicker":
                entry = {"type": kind, "selected_date": value}
            else:
                entry = {"type": kind, "value": value}
            out[block["block_id"]] = {element.get("action_id", block["block_id"]): entry}
        return out

    def describe(self) -> list[str]:
        lines = []
        for n, block in enumerate(self.fields, 1):
            value = self.values.get(block["block_id"])
            shown = escape(value.replace("\n", " ⏎ ")) if value else "[dim](empty)[/dim]"
            lines.append(f"{n:>2} [cyan]{escape(block['block_id'])}[/cyan] {escape(block['label']['text'])}: {shown}")
        return lines


def field_hint(block: dict[str, Any]) -> str:
    """What to type to fill in a field, shown under its label."""
    name = block.get("block_id", "")
    options = block.get("element", {}).get("options") or []
    if options:
        values = [o["value"] for o in options]
        shown = "|".join(values[:6]) + (
            f"|… ({len(values)} choices; `fields` names the field by number)" if len(values) > 6 else ""
        )
        return f"set {name} {shown}"
    if block.get("element", {}).get("type") == "datepicker":
        return f"set {name} YYYY-MM-DD"
    return f"set {name} <text>"
