"""Follow-up questions: "and when were they sent?" made self-contained before retrieval.

Retrieval sees one question at a time, so a follow-up that leans on the previous question
("they", "what about the navy?") would search for nothing. These pure functions rewrite it
with the earlier question's subject; anything that does not look like a follow-up is left as is.
"""

from __future__ import annotations

import re

_WH = {"how", "what", "which", "who", "whom", "whose", "when", "where", "why"}
_WH_TAIL = {"many", "much", "long", "old", "often", "far", "big", "large", "soon", "kind", "type"}
_AUX = {
    "is", "are", "was", "were", "do", "does", "did", "has", "have", "had",
    "will", "would", "can", "could", "should", "may", "might", "must", "shall", "been", "be",
}  # fmt: skip
# "this"/"that" are left out: "what did the minister say about this year's budget?" stands alone.
_PRONOUNS = {
    "they", "them", "it", "its", "their", "theirs", "those", "these", "he", "she", "him", "her",
    "his",
}  # fmt: skip
_LEADS = ("and ", "but ", "also ", "so ", "then ")
_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(?P<thing>.+?)\s*\??$", re.IGNORECASE)
_WORD = re.compile(r"[\w'’-]+")
MAX_FOLLOWUP_WORDS = 9


def subject_of(question: str) -> str | None:
    """The thing a question is about: "how many troops were deployed?" -> "troops"."""
    words = _WORD.findall(question)
    lower = [w.lower() for w in words]
    i = 0
    while i < len(lower) and (lower[i] in _WH or lower[i] in _WH_TAIL):
        i += 1
    if i == 0:
        return None
    # "how many troops were deployed": the noun phrase before the auxiliary.
    j = i
    while j < len(lower) and lower[j] not in _AUX:
        j += 1
    if j > i and j < len(lower):
        return " ".join(words[i:j])
    # "how many members joined the strike": the words before the first past-tense verb.
    if j == len(lower) and i > 0 and lower[i - 1] in _WH_TAIL | {"which", "whose"}:
        k = next((n for n in range(i + 1, len(lower)) if lower[n].endswith("ed")), i + 1)
        return " ".join(words[i : min(k, i + 3)])
    # "when did the bank raise rates" / "what is the population of X": what follows the aux.
    if i < len(lower) and lower[i] in _AUX and i + 1 < len(lower):
        return " ".join(words[i + 1 :])
    # "who leads the union": the object of the verb.
    if i + 1 < len(lower):
        return " ".join(words[i + 1 :])
    return None


def looks_like_followup(question: str) -> bool:
    text = question.strip().lower()
    words = [w.lower() for w in _WORD.findall(text)]
    if not words or len(words) > MAX_FOLLOWUP_WORDS:
        return False
    return text.startswith(_LEADS) or bool(_ABOUT.match(text)) or any(w in _PRONOUNS for w in words)


def rewrite_followup(previous: str | None, question: str) -> str:
    """`question` made self-contained using `previous`; unchanged when it is not a follow-up."""
    question = " ".join(question.split())
    if not previous or not looks_like_followup(question):
        return question
    subject = subject_of(previous)
    about = _ABOUT.match(question)
    if about:
        thing = about.group("thing").strip()
        if subject and subject.lower() in previous.lower():
            start = previous.lower().index(subject.lower())
            return previous[:start] + thing + previous[start + len(subject) :]
        return f"{previous.rstrip(' ?')} ({thing})?"
    body = question
    for lead in _LEADS:
        if body.lower().startswith(lead):
            body = body[len(lead) :]
            break
    body = body[:1].upper() + body[1:]
    if not subject:
        return f"{body.rstrip(' ?')} ({previous.rstrip(' ?')})?"
    replaced, count = re.subn(
        r"\b(they|them|those|these|it|he|she|him|her)\b",
        subject,
        body,
        count=1,
        flags=re.IGNORECASE,
    )
    if count:
        return replaced
    owner = subject if subject.lower().startswith(("the ", "a ", "an ")) else f"the {subject}"
    replaced, count = re.subn(
        r"\b(their|its|his)\b", f"{owner}'s", body, count=1, flags=re.IGNORECASE
    )
    if count:
        return replaced
    return f"{body.rstrip(' ?')} ({subject})?"
