"""The hearing form: a modal built from a `HearingForm`, what a submission says, and the
view that replaces the form once the hearing is recorded. Pure builders; the rules are
the domain's (`hearings.retire` validates every submission).

Slack's limits: 100 blocks a modal, 100 options a static select (75 characters of text
each), 24 characters of title. Besides, the form is kept under about 11,000 characters of
blocks, like our messages. A choice of seats costs about a hundred characters a seat, so
a field offers one while the form stays within that, first field first; on a chart of
more than 99 other seats, and for the fields past the budget, it asks for a seat id.
"""

from __future__ import annotations

import json
from typing import Any

from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import seat_holder_text
from otp_bot.commands.views.render import render, truncate
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.lifecycle.hearing_input import DROP, HearingInput
from otp_bot.store.domain.lifecycle.hearings import HearingForm, HearingResult, SeatChoice

HEARING_VIEW = "otp_hearing_view"
FIELDS = ("reason", "findings", "recommendation", "decision")
CAPABILITY_PREFIXES = ("own-", "acc-")
REPORTS = "reports_to"
MAX_OPTIONS = 100
BUDGET = 11_000
LABEL = 150


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit)}


def _option(choice: SeatChoice, twins: frozenset[str] = frozenset()) -> dict[str, Any]:
    # A title two seats share is told apart by the id; otherwise the title alone saves room.
    text = f"{choice.title[:50]} ({choice.id})" if choice.title in twins else choice.title
    return {"text": _plain(text, 75), "value": choice.id}


def _twins(choices: list[SeatChoice]) -> frozenset[str]:
    titles = [c.title for c in choices]
    return frozenset(t for t in titles if titles.count(t) > 1)


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None
) -> dict[str, Any]:
    block = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label, LABEL),
        "optional": optional,
        "element": {**element, "action_id": block_id},
    }
    if hint:
        block["hint"] = _plain(hint, LABEL)
    return block


def _text(
    placeholder: str, *, multiline: bool = True, max_length: int = 3000, initial: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
        "placeholder": _plain(placeholder, 150),
    }
    if initial:
        element["initial_value"] = initial
    return element


def _select(options: list[dict[str, Any]], placeholder: str, initial: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "placeholder": _plain(placeholder, 150), "options": options}
    if initial is not None:
        element["initial_option"] = initial
    return element


def _head(form: HearingForm) -> list[dict[str, Any]]:
    seat = form.seat
    out = [
        blocks.section(render("lifecycle/hearing_intro.j2", seat=seat, holder=seat_holder_text(seat))),
        _input("reason", "Why is this hearing held?", _text("What prompted it")),
        _input("findings", "Findings", _text("What the hearing found: numbers, incidents, what works")),
        _input("recommendation", "Recommendation", _text("What the seat's holder or reviewer recommends")),
        _input(
            "decision",
            "Decision",
            _select(
                [
                    {"text": _plain("Retire the seat", 75), "value": "retire"},
                    {"text": _plain("Keep the seat", 75), "value": "keep"},
                ],
                "Retire or keep",
            ),
        ),
    ]
    if form.capabilities:
        out.append(blocks.section("*Where its work goes* (to retire it, each needs a seat, or drop it)"))
    return out


def _fields(form: HearingForm) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each capability's field (and the reports' one) as a seat id to type, and as a choice
    of seats when the chart is small enough for one."""
    twins = _twins(form.targets)
    seats = [_option(c, twins) for c in form.targets] + [
        {"text": _plain("Drop it (no longer needed)", 75), "value": DROP}
    ]
    can_choose = not form.more_targets and len(seats) <= MAX_OPTIONS
    out = []
    for cap in form.capabilities:
        label = f"{'Owns' if cap.kind == 'owns' else 'Accountability'}: {cap.text}"
        typed = _input(
            cap.key, label, _text("A seat id, or - to drop it", multiline=False, max_length=64), optional=True
        )
        out.append(
            (typed, _input(cap.key, label, _select(seats, "Choose a seat"), optional=True) if can_choose else None)
        )
    if form.reports:
        names = ", ".join(r.id for r in form.reports)
        label = f"Its {len(form.reports)} direct report{'s' if len(form.reports) != 1 else ''} ({names}) move under"
        hint = "Its manager unless you choose another seat"
        default = next((c for c in form.managers if c.id == form.default_manager), None)
        twins = _twins(form.managers)
        typed = _input(
            REPORTS,
            label,
            _text("A seat id", multiline=False, max_length=64, initial=form.default_manager),
            optional=True,
            hint=hint,
        )
        choice = None
        if form.managers and len(form.managers) <= MAX_OPTIONS:
            choice = _input(
                REPORTS,
                label,
                _select(
                    [_option(c, twins) for c in form.managers],
                    "Choose a seat",
                    _option(default, twins) if default else None,
                ),
                optional=True,
                hint=hint,
            )
        out.append((typed, choice))
    return out


def _size(blocks_: list[dict[str, Any]]) -> int:
    return sum(len(str(b)) for b in blocks_)


def hearing_modal(form: HearingForm) -> dict[str, Any]:
    """The form; Invalid when a seat has more capabilities than one form can hold."""
    head, fields = _head(form), _fields(form)
    chosen = [typed for typed, _ in fields]
    size = _size(head) + _size(chosen)
    # A choice of seats where it fits, first field first; a seat id to type for the rest.
    for i, (typed, choice) in enumerate(fields):
        if choice is not None and size - len(str(typed)) + len(str(choice)) <= BUDGET:
            chosen[i] = choice
            size += len(str(choice)) - len(str(typed))
    out = head + chosen
    if len(out) > 100 or size > BUDGET:
        raise Invalid(
            f"seat `{form.seat.id}` has {len(form.capabilities)} `owns` topics and accountabilities, more "
            "than one Slack form holds",
            hint=f"an operator can retire it with `otp seat retire {form.seat.id} --hearing FILE`",
        )
    return {
        "type": "modal",
        "callback_id": HEARING_VIEW,
        "title": _plain(f"Hearing: {form.seat.id}", 24),
        "submit": _plain("Record", 24),
        "close": _plain("Cancel", 24),
        "blocks": out,
        "private_metadata": json.dumps({"seat": form.seat.id}),
    }


def submitted(view: dict[str, Any]) -> tuple[str, HearingInput]:
    """The seat and the hearing a submission carries; blank where a field was left empty."""
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}

    def get(block: str) -> str:
        element = (values.get(block) or {}).get(block) or {}
        return element.get("value") or (element.get("selected_option") or {}).get("value") or ""

    seat_id = str(json.loads(view.get("private_metadata") or "{}").get("seat", ""))
    moves = [(block, get(block)) for block in values if block.startswith(CAPABILITY_PREFIXES)]
    return seat_id, HearingInput(
        get("reason"), get("findings"), get("recommendation"), get("decision"), moves, get(REPORTS) or None
    )


def field_errors(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the form's input blocks; one with no field of its own goes under the decision."""
    known = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
    known |= set((view.get("state") or {}).get("values") or {})
    out: dict[str, str] = {}
    for key, message in errors.items():
        where = key if key in known or not known else "decision"
        out[where] = truncate(f"{out[where]} {message}" if where in out else message, 150)
    return out


def done_modal(result: HearingResult, titles: dict[str, str]) -> dict[str, Any]:
    """What replaces the form once the hearing is recorded."""
    moves = [
        {"capability": truncate(c.text, 100), "to": f"{titles.get(to, to)} ({to})" if to else None}
        for c, to in result.moves
    ]
    text = render(
        "lifecycle/hearing_done.j2",
        retired=result.retired,
        seat=result.seat,
        hearing=result.hearing,
        moves=moves,
        manager=f"{result.manager.title} ({result.manager.id})" if result.manager else None,
        reports=", ".join(r.id for r in result.reports),
    )
    budget = blocks.BlockBudget(max_blocks=100)
    blocks.lines_to_sections(text.splitlines(), budget, more="and {n} more: `/otp history` has the full record")
    return {
        "type": "modal",
        "title": _plain("Hearing recorded", 24),
        "close": _plain("Done", 24),
        "blocks": budget.blocks,
    }
