"""Drafts and flags as plain text for the `otp` command line (no mrkdwn, nothing cut short)."""

from __future__ import annotations

import datetime as dt
from textwrap import indent
from typing import Any


def _when(iso: str | None) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC") if iso else "?"


def draft_text(d: dict[str, Any]) -> str:
    """One draft from `draft_views.record`, everything in it, for a terminal."""
    route = d["route"]
    rows = [
        f"draft #{d['id']}: {d['title']}",
        f"seat:        {d['seat']['title']} ({d['seat']['id']}), drafted by {d['drafter']['shown']}"
        + (f", accountable human {d['accountable']}" if d["accountable"] and d["drafter"]["kind"] == "agent" else ""),
        f"kind:        {d['kind']}",
        f"subject:     {d['subject']}",
        f"audience:    {'customer-facing' if d['customer_facing'] else 'internal'}",
        f"status:      {d['status']}: {d['outcome']}",
    ]
    if d["status"] != "held" and (route["channel"] or route["approvers"]):
        where = f"channel {route['channel']}" if route["channel"] else "DM"
        rows.append(
            f"approval:    {where}; approvers {route['approver_names']}; "
            f"{route['approvals']} of {route['required']} approvals"
        )
    if d["destination"]:
        error = f": {d['delivery_error']}" if d["delivery_error"] else ""
        rows.append(f"destination: {d['destination']} (delivery: {d['delivery']}{error})")
    else:
        rows.append("destination: none (the drafting agent reads the outcome)")
    rows.append(f"submitted:   {_when(d['created_at'])} by {d['submitted_by']}")
    if d["expires_at"] and d["status"] == "pending":
        rows.append(f"expires:     {_when(d['expires_at'])}")
    rows += ["", "body:", indent(d["body"], "  ")]
    if d["final_text"] is not None:
        rows += ["", "final text" + (" (edited):" if d["edited"] else ":"), indent(d["final_text"], "  ")]
    rows += ["", "decisions:" if d["decisions"] else "decisions: none yet"]
    for dec in d["decisions"]:
        verdict = "approved" if dec["verdict"] == "approve" else "rejected"
        rows.append(
            f"  {dec['when']}  {dec['name']} {verdict}"
            + (" with edits" if dec["edited"] else "")
            + (f": {dec['reason']}" if dec["reason"] else "")
        )
    if d["messages"]:
        rows.append("approval messages:")
        rows += [f"  {m['channel']} {m['ts']} ({m['purpose']})" for m in d["messages"]]
    if d["history"]:
        rows.append("history:")
        rows += [
            f"  {s['when']}  {s['what']}"
            + (f" by {s['who']}" if s["who"] != "system" else "")
            + (f": {s['note']}" if s["note"] else "")
            for s in d["history"]
        ]
    return "\n".join(rows)


def draft_row(line: dict[str, Any]) -> str:
    """One draft from `draft_views.line`, as a list row."""
    return (
        f"#{line['id']:<6} {line['status']:<20} {line['seat_id']:<16} {line['kind']:<20} "
        f"{line['subject']:<24} {line['title']} ({line['age']})"
    )


def flag_row(f: dict[str, Any]) -> str:
    """One flag from `draft_views.flag_view`."""
    return (
        f"{f['subject']} {f['flag']} by {f['seat_id']}"
        + (f" ({f['by']})" if f["by"] else "")
        + f", since {f['set_at']}"
        + (f", until {f['until']}" if f["until"] else "")
        + (f": {f['reason']}" if f["reason"] else "")
    )
