"""Reading an OOS file in any of OTP's three shapes into one mapping.

- JSON: `{"frontmatter": {...}, "entities": {...}, "claims": [...]}` (OTP's full example);
- `.oos.md`: YAML front matter between `---` lines (OTP's front matter fields at the top
  level, optionally `entities`), then Markdown whose claims are `**[C001]** section` blocks;
- the starter YAML users download: `organization`, `entities`, `claims` by section.

`read(text, source)` returns the mapping and the claims read from a Markdown body. A file
that is none of these, or does not parse, raises `ChartErrors` naming the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.yaml_text import parse_yaml
from otp_bot.store.domain.chart.oos import claims as claim_reader


@dataclass
class Document:
    data: dict[str, Any]
    shape: str  # json, md, yaml
    body_claims: claim_reader.Claims = field(default_factory=claim_reader.Claims)


class _DuplicateKey(Exception):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _front_matter(text: str, source: str) -> Document:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip())
    if lines[start].strip() != "---":
        raise ChartErrors(source, [(f"line {start + 1}", "front matter opens with a line that is only `---`")])
    end = next((j for j in range(start + 1, len(lines)) if lines[j].strip() in ("---", "...")), None)
    if end is None:
        raise ChartErrors(source, [(f"line {start + 1}", "the front matter is not closed: end it with a `---` line")])
    # Blank lines in front keep YAML's line numbers equal to the file's.
    data = parse_yaml("\n" * (start + 1) + "\n".join(lines[start + 1 : end]), source)
    if data is None:
        raise ChartErrors(source, [(f"line {start + 1}", "the front matter is empty")])
    if not isinstance(data, dict):
        raise ChartErrors(source, [(f"line {start + 2}", "the front matter is not a mapping of `key: value` lines")])
    doc = Document(data, "md")
    claim_reader.from_markdown(lines[end + 1 :], end + 2, doc.body_claims)
    return doc


def read(text: str, source: str) -> Document:
    text = text.removeprefix("\ufeff")
    head = text.lstrip()
    if not head:
        raise ChartErrors(source, [("", "the file is empty")])
    if head.startswith("---"):
        return _front_matter(text, source)
    if head.startswith(("{", "[")) or source.lower().endswith(".json"):
        try:
            data = json.loads(text, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            raise ChartErrors(
                source, [(f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")]
            ) from None
        except _DuplicateKey as exc:
            raise ChartErrors(source, [("", f"not valid here: duplicate key {exc.args[0]!r}")]) from None
        shape = "json"
    else:
        data = parse_yaml(text, source)
        shape = "yaml"
    if not isinstance(data, dict):
        raise ChartErrors(
            source,
            [
                (
                    "",
                    "neither an OOS JSON object, an .oos.md file (YAML front matter between `---` "
                    "lines, then Markdown) nor an OOS YAML mapping",
                )
            ],
        )
    return Document(data, shape)
