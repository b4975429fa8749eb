"""Is this sentence advice, a decision or an action? A scored, inspectable decision.

Advice is imperative or modal, addressed to the reader (or to a role: "reviewers", "teams"), and
not conditional, a template instruction, boilerplate, a definition or navigation. `score_advice`
adds up named features, each with a weight, so a reviewer (or a test) can see why a sentence was
or was not taken:

    >>> score_advice("Organisations can remotely wipe devices should they be lost.").features
    {'modal': 0.5, 'modal_in_condition': -0.5}

Positive evidence (at most one counts, the strongest): an imperative opening ("Avoid...",
"Make sure..."), an imperative after a short lead clause ("If in doubt, ask..."), a strong
phrase ("we recommend", "must never"), a modal ("should", "must", "it is important to").
Negative evidence: the modal sits in a condition ("if you should...", "should they be lost"),
in an embedded clause ("describes how you should..."), or says what is likely ("this should
make it easy"); a template instruction ("List any open questions here"); licence or IPR
boilerplate; a definition ("A flaky test is a test that should..."); navigation ("Find out
more on the X page"); a question, a hedge, an example or a quotation.

Pure: strings in, numbers out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.text import tokens

__all__ = [
    "Advice",
    "CHECKBOX",
    "NOT_ADVICE",
    "NUMBERING",
    "score_advice",
]

MAX_SENTENCE_CHARS = 400
MIN_SENTENCE_WORDS = 3
STRONG = 0.9  # score from which a sentence is clear advice (strength 1.0)
WEAK = 0.45  # score from which it is modal advice (strength 0.5)

CHECKBOX = re.compile(r"^\s*(?:[-*•]\s*)?\[[ xX✓✔]?\]\s*")
NUMBERING = re.compile(r"^\s*(?:(?:\d+|[IVXivx]+|[A-Za-z])[.)]|\d+(?:\.\d+)+\.?|§\s*\d+)\s+")


@dataclass(frozen=True)
class Advice:
    """How clearly one sentence gives advice, with the features that decided it."""

    score: float
    features: dict[str, float] = field(default_factory=dict)

    @property
    def strength(self) -> float:
        """1.0 clear advice, 0.5 modal advice, 0 not advice."""
        return 1.0 if self.score >= STRONG else 0.5 if self.score >= WEAK else 0.0


# ---------------------------------------------------------------------------------------------
# positive evidence

# Imperatives that open a sentence. Verbs that are also nouns ("Set", "Test", "Review") count
# only when followed by a determiner/pronoun.
_IMPERATIVE = {
    "always", "never", "avoid", "prefer", "ensure", "consider", "remember", "try", "keep", "use",
    "make", "ask", "explain", "encourage", "balance", "be", "don't", "dont", "do", "check", "put",
    "tell", "write", "add", "include", "limit", "follow", "respond", "reply", "fix", "separate",
    "split", "create", "remove", "pin", "measure", "rotate", "quarantine", "give", "stop", "start",
    "think", "look", "take", "send", "share", "assign", "agree", "define", "document", "label",
    "leave", "let", "mention", "move", "prefix", "reduce", "resist", "run", "skip", "update",
    "verify", "confirm", "cache", "record", "review", "set", "test", "list", "note", "plan",
    "name", "read", "poll", "replace", "delete", "find", "focus", "get", "go", "hand", "escalate",
    "insist", "trust", "wait", "watch", "favor", "favour", "comment", "approve", "call",
}  # fmt: skip
_AMBIGUOUS = {
    "use", "record", "review", "set", "test", "list", "note", "plan", "name", "document", "cache",
    "start", "stop", "run", "move", "label", "comment", "call", "split", "read", "look", "go",
    "get", "find", "watch", "share", "hand", "wait", "focus", "measure", "update", "delete",
    "replace", "trust", "think", "take", "make", "do", "be", "leave", "let", "check", "fix",
    "limit", "balance", "try", "remove", "separate",
}  # fmt: skip
_AFTER_IMPERATIVE = {
    "the", "a", "an", "your", "every", "each", "all", "any", "it", "them", "this", "that", "these",
    "those", "one", "some", "only", "up", "out", "on", "in", "to", "for", "from", "with", "sure",
    "kind", "careful", "clear", "honest", "explicit", "specific", "consistent", "polite", "not",
    "things", "people", "reviewers", "developers", "authors", "tests", "code", "comments", "both",
    "whatever", "at", "back", "through", "down", "off", "over", "ahead", "about", "more", "less",
    "no", "small", "short", "new", "existing", "other", "related", "their", "his", "her", "our",
    "my", "yourself", "first", "away", "why", "what", "how", "when", "if",
}  # fmt: skip
_STRONG_PHRASES = re.compile(
    r"(?i)\b(?:we\s+recommend|i\s+recommend|is\s+recommended|are\s+recommended|recommended\s+to|"
    r"make\s+sure|be\s+sure\s+to|(?:you|we)\s+must|must\s+(?:not|never|always)|mustn'?t|"
    r"(?:should|must|please)\s+(?:never|always|avoid)|please\s+(?:do\s+not|don'?t)|"
    r"it\s+is\s+best\s+to|it'?s\s+best\s+to|it\s+is\s+better\s+to|it'?s\s+better\s+to|"
    r"(?:it\s+is|it'?s)\s+(?:a\s+)?(?:good|best)\s+practice\s+to|best\s+practice\s+is\s+to|as\s+a\s+best\s+practice|"
    r"the\s+rule\s+is|rule\s+of\s+thumb|the\s+trick\s+is|the\s+key\s+is|what\s+worked\s+for\s+us|"
    r"lessons?\s*(?:learned)?\s*:|lessons?\s+learned|is\s+mandatory|are\s+mandatory)\b"
)
_MODAL = re.compile(r"(?i)\b(?:should(?:n'?t)?|must|ought\s+to)\b")
_MODAL_PHRASES = re.compile(
    r"(?i)\b(?:try\s+to|"
    r"it\s+is\s+(?:often\s+|also\s+|very\s+)?(?:important|helpful|useful|worthwhile)\s+to|"
    r"it'?s\s+(?:often\s+|also\s+|very\s+)?(?:important|helpful|useful|worthwhile)\s+to|"
    r"is\s+important\s+that|a\s+good\s+idea)\b"
)

# ---------------------------------------------------------------------------------------------
# negative evidence

# "...should they be lost", "Should you need access, ...": an inverted condition.
_INVERTED_CONDITION = re.compile(
    r"(?i)(?:^|[\s,;(])should\s+(?:they|it|he|she|we|you|i|there|this|that|these|those|anyone|someone|"
    r"anything|something|the\s+\w+|your\s+\w+|any\s+\w+)\s+(?!not\b|always\b|never\b|also\b|only\b)"
)
_CONDITION_OPENER = re.compile(r"(?i)\b(?:if|unless|whether|in\s+case|provided(?:\s+that)?|as\s+long\s+as)\b")
_EMBEDDED_OPENER = re.compile(r"(?i)\b(?:how|what|which|where|why|whether|who)\b")
# "This should make it easy...", "That should help": what is likely, not what to do
_EPISTEMIC = re.compile(
    r"(?i)\b(?:this|that|it|which)\s+should\s+(?:make|help|be\s+(?:enough|fine|easy|possible|straightforward)|"
    r"work|mean|allow|give|take|reduce|improve|happen|result|catch|cover|fix|solve)\b"
)
_TEMPLATE = re.compile(
    r"(?i)^(?:please\s+)?(?:list|describe|add|write|include|insert|enter|fill\s+in|provide|summari[sz]e|"
    r"explain|outline|state|note|record|link|replace|delete|remove|put|paste|give|document|capture|"
    r"mention|specify|detail|type|use)\b[^.!?]*?\b(?:here|below|above|in\s+this\s+(?:section|box|field|space|table)|"
    r"this\s+(?:section|template|text|placeholder|box|field|heading)|the\s+(?:template|placeholder))\b"
    r"|^(?:use\s+this\s+(?:section|template|space|page|document)|this\s+(?:section|template|field)\s+"
    r"(?:should|must|is\s+(?:for|where)|describes|contains|lists))\b"
    r"|[<\[](?:insert|your|name|date|tbd|todo|link|add|enter|describe|replace)\b[^<>\[\]]{0,40}[>\]]|\{\{[^{}]+\}\}"
    r"|\b(?:TBD|TODO|XXX|lorem\s+ipsum)\b"
)
_BOILERPLATE_DECISIVE = re.compile(
    r"(?i)\b(?:hereby|pursuant\s+to|licensed\s+under|all\s+rights\s+reserved|without\s+warrant(?:y|ies)|"
    r"patent\s+polic(?:y|ies)|essential\s+claims|royalty[-\s]free|you\s+may\s+not\s+use\s+this\s+file|"
    r"disclosure\s+obligations?|shall\s+not\s+be\s+liable|rfc\s*2119|are\s+to\s+be\s+interpreted\s+as|"
    r"terms\s+and\s+conditions|intellectual\s+property\s+rights?)\b"
)
_LEGAL_WORDS = re.compile(
    r"(?i)\b(?:copyright|licen[cs](?:e|es|ed|ing|or|ee)|patents?|ipr|warrant(?:y|ies)|liabilit(?:y|ies)|liable|"
    r"trademarks?|indemnif\w*|infring\w*|disclos(?:e|ure)|contributors?|shall|notwithstanding)\b"
)
_DEFINITION = re.compile(
    r"(?i)^(?:an?\s+|the\s+)?[\w\s'’/()-]{1,40}?\s+(?:is|are|means|refers\s+to|is\s+defined\s+as|is\s+called|stands\s+for)\s+"
    r"(?:an?|the|one|any|when|where|used\s+to|defined|something|someone|those|what)\b"
)
_RELATIVE_MODAL = re.compile(r"(?i)\b(?:that|which|who|whose)\s+(?:\w+\s+){0,3}?(?:should|must)\b")
_NAVIGATION = re.compile(
    r"(?i)^(?:find\s+out\s+more|read\s+more|learn\s+more|for\s+more\s+(?:information|details)|more\s+information|"
    r"see\s+(?:the|our|also|more)|refer\s+to|visit|check\s+out|you\s+can\s+(?:find|read)|further\s+reading)\b"
)
_SELF_REFERENCE = re.compile(r"(?i)\b(?:these\s+points|this\s+(?:guide|page|document|handbook))\b")
_QUOTED = re.compile(r"\"[^\"]{8,}\"|“[^”]{8,}”")
NOT_ADVICE = re.compile(
    r"(?i)^(?:bad|good|example|e\.g|for\s+example,\s+say|next|previous|see\s+also|see|note:\s*nothing|"
    r"nit|optional|fyi)\s*[:\-]"
    r"|^[\"“'‘`]|^\s*```|^\s*//|^\s*#(?:!|\s)|\{\.(?:bad|good)\}"
)
_HEDGES = re.compile(r"(?i)\b(?:maybe|perhaps|i\s+guess|i'?m\s+not\s+sure|i\s+am\s+not\s+sure|i\s+don'?t\s+know)\b")
_LABEL = re.compile(r"(?i)^(?:note|tip|rule|hint|important|remember)\s*:\s*")


def _first_words(sentence: str) -> tuple[str, str]:
    s = _LABEL.sub("", sentence.strip())
    s = re.sub(r"^[\-*•\s]+", "", s)
    s = CHECKBOX.sub("", s)
    s = NUMBERING.sub("", s)
    found = [t for t in tokens(s) if t[0].isalpha()]
    return (found[0] if found else ""), (found[1].lower() if len(found) > 1 else "")


def _imperative(text: str, initial: bool) -> bool:
    first, second = _first_words(text)
    lower = first.lower().replace("’", "'")
    if initial and not first[:1].isupper():
        return False
    if lower not in _IMPERATIVE or (lower == "note" and second == "that"):
        return False  # "Note that ..." is an aside, judged by its modal verbs
    if not initial and lower in ("be", "do", "let", "go", "get", "make", "take", "think", "look"):
        return second in ("sure", "careful", "kind", "not", "a", "the")  # "If ..., make sure"
    return lower not in _AMBIGUOUS or second in _AFTER_IMPERATIVE


def opens_with_imperative(text: str) -> bool:
    """True when `text` starts with an imperative ("Use uv…", "Avoid nesting…", "Do not…")."""
    return _imperative(text, initial=True)


def _lead_clause(s: str) -> re.Match[str] | None:
    """A short opening clause before a comma ("If in doubt, ", "Either way, ")."""
    m = re.match(r"^([^,;:()\"]{3,80}),\s+", s)
    return m if m and len(tokens(m.group(1))) <= 10 else None


def _modal_clause(s: str, start: int) -> str:
    """Where the modal at `start` sits: "main", "condition" ("if you should need help") or
    "embedded" ("describes how you should design")."""
    clause = re.split(r"[,;:]|\bthen\b|\s[-–—]\s", s[:start])[-1]  # the clause the modal is in
    opener = list(_CONDITION_OPENER.finditer(clause))
    if opener and len(tokens(clause[opener[-1].end() :])) <= 3:
        return "condition"  # "if you should need access": not "If X is updated by Y you should Z"
    embedded = list(_EMBEDDED_OPENER.finditer(clause))
    return "embedded" if embedded and len(tokens(clause[embedded[-1].end() :])) <= 5 else "main"


def score_advice(sentence: str) -> Advice:
    """Score how clearly `sentence` gives advice; `features` names every contribution."""
    s = sentence.strip()
    f: dict[str, float] = {}
    n_words = len(tokens(s))
    if n_words < MIN_SENTENCE_WORDS or len(s) > MAX_SENTENCE_CHARS:
        return Advice(0.0, {"length": 0.0})
    unquoted = _QUOTED.sub('"…"', s)  # advice inside a quotation is not the author's advice
    lead = _lead_clause(s)
    if _imperative(s, initial=True):
        f["imperative"] = 1.0
    elif lead and _imperative(s[lead.end() :], initial=False):
        f["imperative_after_clause"] = 1.0
    elif strong := _STRONG_PHRASES.search(unquoted):
        f["strong_phrase"] = 1.0
        where = _modal_clause(unquoted, strong.start()) if _MODAL.search(strong.group(0)) else "main"
        if where != "main":  # "Whether you should always rebase is up to the team"
            f[f"modal_in_{where}" if where == "condition" else "modal_embedded"] = -1.0
    else:
        modals = list(_MODAL.finditer(unquoted))
        if modals or _MODAL_PHRASES.search(unquoted):
            f["modal"] = 0.5
            where = {_modal_clause(unquoted, m.start()) for m in modals}
            if modals and "main" not in where:
                f["modal_in_condition" if "condition" in where else "modal_embedded"] = -0.5
            elif _INVERTED_CONDITION.search(unquoted) and len(modals) == 1:
                f["modal_in_condition"] = -0.5
            elif _EPISTEMIC.search(unquoted) and len(modals) == 1:
                f["modal_epistemic"] = -0.5
    if not f:
        return Advice(0.0, {"no_advice_verb": 0.0})
    if s.endswith("?"):
        f["question"] = -1.0
    if NOT_ADVICE.search(s):
        f["example_or_quote"] = -1.0
    if _HEDGES.search(s):
        f["hedge"] = -1.0
    if _TEMPLATE.search(s):
        f["template_instruction"] = -1.0
    legal = len(_LEGAL_WORDS.findall(s))
    if _BOILERPLATE_DECISIVE.search(s) or legal >= 3:
        f["boilerplate"] = -1.0
    first = re.split(r"[,;:]\s+|\s[-–—]+\s", s)[0]  # "X is a Y that should..., and you must...": the 2nd clause advises
    rest = s[len(first) :]
    if _DEFINITION.match(first) and (_RELATIVE_MODAL.search(first) or "modal" in f) and not (
        _MODAL.search(rest) or _MODAL_PHRASES.search(rest)
    ):
        f["definition"] = -0.5
    if _NAVIGATION.match(_LABEL.sub("", s)):
        f["navigation"] = -1.0
    if _SELF_REFERENCE.search(s):
        f["self_reference"] = -0.3
    return Advice(max(0.0, round(sum(f.values()), 3)), f)


# ---------------------------------------------------------------------------------------------
# decisions and actions in minutes

# Where a scribe marks them: "RESOLVED: ...", "**Decision:** ...", "ACTION (Ann): ...",
# "Action item: ...". The text after the marker is the decision or the action.
_SCRIBE_MARK = re.compile(
    r"(?i)^[\s\-*•>]*(?:\*\*|__)?\s*(?P<mark>resolved|resolution|decision|decided|agreed|"
    r"action(?:\s+items?)?|actions)\b\s*(?:\([^)]{0,40}\)|(?:for|on)\s+[\w.'’ -]{1,30}?)?\s*(?:\*\*|__)?\s*[:\-–—]\s*"
    r"(?:\*\*|__)?\s*(?=\S)"
)
# Said rather than marked: "we agreed to...", "it was decided that...", "action item for Bob: ..."
DECISION_PHRASE = re.compile(
    r"(?i)\b(?:we(?:'ve|\s+have)?\s+decided|we(?:'ve|\s+have)?\s+agreed|agreed\s+on|let'?s\s+go\s+with|"
    r"we'?ll\s+go\s+with|the\s+decision\s+is|decision\s*:|we\s+settled\s+on|it'?s\s+decided|"
    r"it\s+was\s+(?:decided|agreed|resolved))\b"
)
ACTION_PHRASE = re.compile(r"(?i)\baction\s+items?\b(?:\s+(?:for|on)\s+[A-Z]\w*)?\s*[:\-–]?")
_ACTION_MARKS = ("action", "actions")
# "Decision: what the team has decided to do" describes a field of a template, it decides nothing
_FIELD_DESCRIPTION = re.compile(r"(?i)(?:what|which|how|why|where|when|who|a\s+description|description|the\s+reason|any\b|e\.g)")


def scribe_mark(text: str) -> tuple[str, int] | None:
    """("decision" | "action", where the marked text starts) if `text` opens with a scribe's
    marker ("RESOLVED:", "DECISION:", "ACTION:", "Action item:"), else None."""
    m = _SCRIBE_MARK.match(text)
    if not m or _FIELD_DESCRIPTION.match(text, m.end()):
        return None
    mark = m.group("mark").lower()
    kind = "action" if mark.split()[0] in _ACTION_MARKS else "decision"
    return kind, m.end()


def is_scribe_label(label: str | None) -> str | None:
    """"decision" / "action" if a transcript's speaker label is a scribe's marker ("RESOLVED")."""
    found = scribe_mark(f"{label}: x") if label else None
    return found[0] if found else None


def said_decision(sentence: str) -> bool:
    """True if the sentence reports a decision ("we agreed to pin runner images"), not a
    conditional or an echo ("if we decided to...", "that's what we agreed on")."""
    m = DECISION_PHRASE.search(sentence)
    if not m:
        return False
    conditional = re.search(r"(?i)\b(?:if|whether|unless|what)\s+(?:\w+\s+){0,2}$", sentence[: m.start()])
    elided = re.match(r"(?i)\s*(?:not\s+)?(?:to|so|that)\s*[,.;]", sentence[m.end() :])  # "we decided not to, because"
    return not conditional and not elided and len(tokens(sentence[m.end() :])) >= 3
