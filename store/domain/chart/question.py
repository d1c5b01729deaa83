"""What a who-owns question asks about: the topic, without the words around it.

People type the question as they would say it (`who owns churn?`, `who is responsible for
billing`), and the command's own name often comes along (`/otp who-owns who owns billing`).
The answer must name the topic, not echo the sentence, and the search must not spend its
score on words that are in every question.
"""

from __future__ import annotations

import re
import unicodedata

# Words that open a who-owns question. Only leading ones are dropped, and never all of the
# words: `who-owns charge` still asks about "charge".
_OPENERS = frozenset(
    [
        "who",
        "whos",
        "who's",
        "whom",
        "whose",
        "which",
        "what",
        "what's",
        "whats",
        "owns",
        "own",
        "owner",
        "owners",
        "owning",
        "is",
        "are",
        "does",
        "do",
        "handles",
        "handle",
        "handling",
        "runs",
        "run",
        "responsible",
        "accountable",
        "in",
        "charge",
        "of",
        "for",
        "the",
        "a",
        "an",
        "our",
        "seat",
        "person",
        "agent",
        "team",
        "job",
    ]
)
_TRAILING = frozenset(["here", "now", "please", "pls", "today"])
_ASKING = frozenset(["who", "whos", "who's", "whom", "whose", "which", "what", "owns", "own", "owner", "owners"])
_EDGES = " \t?!.,;:¿¡"


def topic_of(question: str) -> str:
    """The topic of a who-owns question: `Who owns the churn?` → `churn`."""
    # Full-width and other compatibility letters read as what they are: `ＲＥＣＡＬＬ` is RECALL.
    text = unicodedata.normalize("NFKC", question).strip().strip(_EDGES)
    text = re.sub(r"^who[-_]owns\b", "", text, flags=re.IGNORECASE).strip(_EDGES)
    if not text:
        return ""
    words = text.split()
    if all(_plain(w) in _OPENERS for w in words) and (len(words) > 1 or _plain(words[0]) in _ASKING):
        return ""  # only the question: `who owns?`
    start = 0
    while start < len(words) - 1 and _plain(words[start]) in _OPENERS:
        start += 1
    end = len(words)
    while end - 1 > start and _plain(words[end - 1]) in _TRAILING:
        end -= 1
    return " ".join(words[start:end]).strip(_EDGES)


def _plain(word: str) -> str:
    return word.lower().replace("\u2019", "'").strip(_EDGES)
