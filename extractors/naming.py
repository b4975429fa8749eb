"""Names for patterns: named for the practice, not for a generic heading.

A section heading names a pattern when it says what the practice is about ("Pinning Actions",
"Resolving Conflicts"). Generic headings ("Goals", "Day 3", "Overview", "Transcript for
2024-06-04", "Should Do") say nothing about it: the pattern is then named after the advice it
gives (`practice_name`). Headings that only say what kind of list follows ("Summary",
"Checklist", "Exceptions") are kept, qualified by the heading above them ("Every Line:
Exceptions"). Navigation and licence sections ("Further reading", "See also", "Licence") hold
no practice at all.

A specific heading of a few words usually names a topic, not the practice ("Dependencies",
"Versioning", "Using code examples"): the reader of a queue of patterns learns nothing from it.
Such a heading is kept as the topic and the advice names the practice after it ("Versioning:
Keep Terraform up to date") — unless the heading already says what the advice says ("Update
dependencies frequently" over "Update your dependencies frequently…").

Pure: strings in, strings out.
"""

from __future__ import annotations

import re

from extractors.advice import CHECKBOX, NUMBERING, opens_with_imperative, score_advice, scribe_mark
from pipeline.text import content_words, refers_back, split_sentences, tokens

__all__ = ["heading_kind", "practice_name", "strip_step", "topic_and_practice"]

_NUMBER = r"(?:\d+[a-z]?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[ivxIVX]+|[A-Z])"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|"
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?(?:\s+\d{4})?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)"
)
_STEP = re.compile(
    rf"(?i)^(?:step|day|week|part|phase|stage|sprint|session|round|module|lesson|section|chapter|item)\s+{_NUMBER}\s*[:.\-–—)]\s*"
)
_GENERIC = re.compile(
    rf"(?i)^(?:(?:step|day|week|part|phase|stage|sprint|session|round|module|lesson|section|chapter|item|"
    rf"iteration|meeting|workshop|retro(?:spective)?|standup|stand-up|sync)\s+{_NUMBER}"
    rf"|(?:transcript|minutes|notes|recording|meeting|summary|agenda|call|sync|standup|retro(?:spective)?)"
    rf"(?:\s+(?:for|of|from|on|-|–|—))?\s+.*?{_DATE}.*"
    rf"|{_DATE}(?:\s+.*)?|[\d\s./:-]+"
    r"|goals?|objectives?|aims?|purpose|scope|notes?|general|details?|background|intro(?:duction)?|overview|"
    r"examples?|for\s+example|other|others|misc(?:ellaneous)?|more|must(?:\s+do)?|should(?:\s+do)?|could(?:\s+do)?|"
    r"must\s+not(?:\s+do)?|should\s+not(?:\s+do)?|do|don'?t|dos|don'?ts|practical\s+advice|advice|"
    r"process|steps|approach|usage|updates?|discussion|agenda|minutes|meeting\s+notes|attendees|"
    r"next\s+steps|questions?|answers?|info(?:rmation)?|miscellany|what|why|how|when|who|where|"
    r"transcript|untitled|draft|todo|tbd|decisions?|resolutions?|action\s+items?|actions?|outcomes?|"
    r"what\s+(?:you|we)\s+(?:need|have)\s+to\s+(?:do|know)|what\s+to\s+do|how\s+it\s+works|getting\s+started|"
    r"useful\s+resources|things\s+to\s+(?:do|know|consider))$"
)
_QUALIFIABLE = re.compile(
    r"(?i)^(?:summary|context|exceptions?|recommendations?|guidelines?|tips?|rules?|"
    r"(?:best|good)\s+practices?|check\s?-?lists?|faqs?|lessons(?:\s+learned)?|do'?s\s+and\s+don'?ts|"
    r"dos\s*(?:&|and)\s*don'?ts|principles?|conventions?|requirements?|in\s+summary|tl;?dr)$"
)
_NAVIGATION = re.compile(
    r"(?i)^(?:further\s+(?:reading|information|guidance|resources)|see\s+also|references?|links|useful\s+links|"
    r"external\s+links|resources|related(?:\s+\w+)?|more\s+information|read\s+more|bibliography|sources|"
    r"credits|acknowledge?ments|licen[cs]es?|licen[cs]ing|copyright|intellectual\s+property(?:\s+rights)?|"
    r"ipr(?:\s+policy)?|patent\s+policy|legal|disclaimer|terms(?:\s+of\s+use)?|changelog|change\s+log|"
    r"release\s+notes|contributors?|authors?|status\s+of\s+this\s+document|table\s+of\s+contents|contents|toc)$"
)


def strip_step(heading: str) -> str:
    """"Step One: Take a broad view of the change" → "Take a broad view of the change"."""
    rest = _STEP.sub("", heading).strip()
    return rest if len(tokens(rest)) >= 2 else heading


def heading_kind(heading: str) -> str:
    """"navigation" (holds no practice), "generic" (names nothing), "qualifiable" (names the
    kind of list: qualify it by its parent) or "specific" (names the practice)."""
    h = strip_step(re.sub(r"\s+", " ", heading).strip().rstrip(":"))
    if _NAVIGATION.match(h):
        return "navigation"
    if _GENERIC.match(h):
        return "generic"
    if _QUALIFIABLE.match(h):
        return "qualifiable"
    return "specific"


_TRIGGER_PREFIX = re.compile(
    r"(?i)^.*?\b(?:we(?:'ve|\s+have)?\s+decided(?:\s+(?:up)?on)?|we(?:'ve|\s+have)?\s+agreed(?:\s+(?:up)?on)?|let'?s\s+go\s+with|"
    r"it\s+was\s+(?:decided|agreed|resolved)|the\s+decision\s+is|"
    r"what\s+worked\s+for\s+us(?:\s+in\s+\w+)?(?:\s+on\s+the\s+[\w-]+\s+side)?|what\s+worked|"
    r"lessons?\s+learned|the\s+lesson\s+(?:is|was)|the\s+(?:other\s+)?trick\s+is(?:\s+to)?|the\s+key\s+is(?:\s+to)?|"
    r"what\s+we\s+recommend|we\s+recommend|my\s+advice(?:\s+is)?|the\s+rule\s+is)\b[\s:,]*(?:that\s+|to\s+)?"
)
_ADDRESS_PREFIX = re.compile(
    r"(?i)^(?:note|tip|rule|hint|important|remember)\s*:\s*"
    r"|^(?:you|we)\s+(?:should|must|need\s+to|have\s+to)\s+(?=\w)"
)
_LEAD_CLAUSE = re.compile(
    r"(?i)^(?:if|unless|when|whenever|before|after|once|where|while|either|in\s|for\s|as\s|regardless|whether)"
    r"[^,;:()\"]{0,80},\s+"
)
_ABBREV = ("mr", "mrs", "ms", "dr", "e.g", "i.e", "etc", "vs")


def practice_name(text: str, max_words: int = 9) -> str:
    """A short name for a practice from the sentence that gives it: the advice after its trigger
    ("What worked for us: X" → "X", "RESOLVED: X" → "X", "You should X" → "X", "Unless..., do X"
    → "Do X"), first clause only, capitalised, no trailing punctuation."""
    t = text.strip()
    mark = scribe_mark(t)
    t = t[mark[1] :] if mark else t
    rest = _TRIGGER_PREFIX.sub("", t, count=1).strip() or t
    if len(tokens(rest)) < 3:
        rest = t
    lead = _LEAD_CLAUSE.match(rest)
    if lead and len(tokens(rest[lead.end() :])) >= 3:
        rest = rest[lead.end() :]
    rest = re.sub(r"(?i)^(?:okay|so|and|but|yes|well|right|however|also|instead)[,.]?\s+", "", rest)
    rest = _ADDRESS_PREFIX.sub("", rest)
    rest = re.sub(r"(?i)^not\s+to\s+", "Do not ", rest)  # "we decided not to use X" → "Do not use X"
    rest = CHECKBOX.sub("", NUMBERING.sub("", rest))
    ws = rest.split()
    for k, w in enumerate(ws[:max_words]):  # stop at the end of the first clause, if not too early
        in_list = w.endswith(",") and k + 1 < len(ws) and ws[k + 1].lower() in ("and", "or")
        if k >= 3 and w.endswith((".", ";", "!", "?", ",", ":")) and w.lower().rstrip(".,") not in _ABBREV and not in_list:
            ws = ws[: k + 1]
            break
    name = " ".join(ws[:max_words]).rstrip(" ,;:.!?—-")
    if len(ws) > max_words:
        name += "…"
    return name[:1].upper() + name[1:]


def _reads_as_practice(name: str, advice: str) -> bool:
    """An instruction ("Use uv", from "You should use uv.") or a rule about a named subject ("All
    Go code must be gofmt-formatted"), not a fragment or a sentence leaning on the one before
    ("This should…"). The advice sentence it came from says whether it is advice at all."""
    if len(tokens(name)) < 2 or refers_back(name) or advice.rstrip().endswith(":"):
        return False  # "…suppress it", or a sentence that only introduces its list
    if opens_with_imperative(name):
        return True
    return score_advice(advice).strength >= 0.5 and (len(tokens(name)) >= 4 or not name.startswith(advice[:1]))


_TOPIC_WORDS = 3  # a heading of up to this many content words is read as a topic
_MAX_NAME_WORDS = 12  # the advice's first clause, whole, when it is no longer than this


def topic_and_practice(heading: str, advice: str | None) -> str:
    """The name of a pattern under a specific `heading` whose strongest advice is `advice`: the
    heading when it is long enough to name the practice or already says what the advice says,
    else "heading: practice" when the advice reads as a clean instruction ("Dependencies: Use Dependabot to keep dependencies up to date")."""
    topic = strip_step(heading)
    if not advice:
        return topic
    said = content_words(topic)
    if not said or len(said) > _TOPIC_WORDS or len(tokens(topic)) > _TOPIC_WORDS + 1:
        return topic
    if any(_QUALIFIABLE.match(part.strip()) for part in re.split(r"[:\-–—]", topic)):
        return topic  # it names a list ("Checklist: production readiness"), which is what it holds
    advice = (split_sentences(advice) or [advice])[0]  # the sentence that gives the advice
    name = practice_name(advice, max_words=_MAX_NAME_WORDS)
    if name.endswith("…") or not _reads_as_practice(name, advice):
        # a name cut off mid-clause reads as unfinished text: the topic alone is the cleaner name
        return topic  # and only a clean instruction names the practice ("At times like this" does not)
    named = set(content_words(name))
    if len(said) >= 2 and all(w in named for w in said):
        return topic  # the heading is the practice in short ("Update dependencies frequently")
    if set(said) >= named:
        return topic  # the advice adds nothing the heading lacks
    return f"{topic}: {name}"
