"""Offline document extractor: FAQ sections, checklists and recommendation sentences.

Reads the elements of one document (unstructured's categories: Title, NarrativeText, ListItem,
Table, CodeSnippet, UncategorizedText...) in reading order and proposes:

FAQ        a question heading ("How do we deal with flaky tests?") or a standalone question
           paragraph, answered by the elements that follow it up to the next heading or
           question. Standalone question paragraphs count only inside a FAQ-like section
           ("FAQ", "Frequently asked questions", "Q&A"), where they are the question of a pair.
pattern    one per section (the deepest heading above an element):
           - checklist items: list items (or "[ ]" checkbox lines) under a heading that names a
             checklist, dos and don'ts, best practices, guidelines, recommendations, tips, rules
             or production readiness, or after a lead-in that asks for them ("you should make
             sure that:");
           - recommendation sentences: imperatives and modal advice ("Always...", "Avoid...",
             "Make sure...", "We recommend...", "... should ...") anywhere in paragraphs and
             list items. Checklist items and recommendations of one section become ONE pattern.

Pure: no I/O. Every quote is an exact substring of its passage text (sentences are cut out of
the text by their character spans; only the display fields are cleaned).

Noise that is skipped: code blocks, tables, example blocks ("Example:", "Bad:", "Good:"),
navigation lists (items that are only link titles), page footers, very short fragments and
sentences longer than `MAX_SENTENCE_CHARS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from extractors.base import ExtractionResult, quote_is_verbatim
from pipeline.models import CandidateDraft, CandidateKind, Evidence, Passage, Source, SourceKind

__all__ = [
    "DocumentExtractor",
    "clean_heading",
    "is_recommendation",
    "recommendation_strength",
    "sentence_spans",
]

MAX_SENTENCE_CHARS = 400
MIN_SENTENCE_WORDS = 3
MAX_ANSWER_ELEMENTS = 8

# ---------------------------------------------------------------------------------------------
# sentences


_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx",
    "inc", "ltd", "jr", "sr", "al", "p", "pp", "ch", "sec", "min", "max", "u.s", "u.k",
}  # fmt: skip
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, whitespace trimmed.

    A simple splitter: a sentence ends at ".", "!", "?" (plus closing quotes/brackets) followed
    by whitespace and a character that may start a sentence, or at a blank line / a new bullet.
    Abbreviations ("e.g.", "Dr.") and decimals do not end sentences. `text[s:e]` is always an
    exact substring, so it can serve as a verbatim quote.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if m.group(0)[0] in ".!?…":
            # what follows must look like a new sentence
            rest = text[end:].lstrip()
            if not rest:
                continue
            nxt = rest[0]
            if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([{*-•#"):
                continue
            if m.group(0).startswith(".") and len(m.group(0).rstrip("\"'”’)]")) == 1:
                word = re.search(r"([\w.]+)$", text[start : m.start()])
                if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                    continue
                if word and len(word.group(1)) == 1 and word.group(1).isupper():
                    continue  # an initial: "J. Smith"
        _add_span(text, start, end, spans)
        start = end
    _add_span(text, start, n, spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", text)


# ---------------------------------------------------------------------------------------------
# headings

_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")
_NUMBERING = re.compile(r"^\s*(?:(?:\d+|[IVXivx]+|[A-Za-z])[.)]|\d+(?:\.\d+)+\.?|§\s*\d+)\s+")
_MD_MARKS = re.compile(r"^[#>*_\s]+|[*_`]+$")


def clean_heading(text: str) -> str:
    """A heading for display: no "{#anchor}", numbering ("3.", "2.1", "IV."), markdown marks."""
    t = _ANCHOR.sub("", text.strip())
    t = _MD_MARKS.sub("", t).strip()
    t = _NUMBERING.sub("", t).strip()
    t = re.sub(r"\s+", " ", t)
    return t.rstrip(":").strip()


_PAGE_FOOTER = re.compile(r"(?i)\bpage\s+\d+(\s+of\s+\d+)?\s*$|^\s*\d+\s*$|^\s*-\s*\d+\s*-\s*$")
_CHECKBOX = re.compile(r"^\s*(?:[-*•]\s*)?\[[ xX✓✔]?\]\s*")
# "7. Frequently asked questions" as a numbered list item (PDF headings often come out like this),
# possibly glued to the first checkbox item of its section: "6. Postmortem checklist [ ] Summary..."
_PSEUDO_HEADING = re.compile(
    r"^\s*(?P<num>\d{1,2}(?:\.\d+)*\.?)\s+(?P<head>[A-Z][^.!?:;\[\]]{2,70}?)\s*(?=\[[ xX]?\]|$)"
)


def _is_noise_heading(text: str) -> bool:
    return bool(_PAGE_FOOTER.search(text) or _CHECKBOX.match(text))


def _pseudo_heading(p: Passage) -> re.Match[str] | None:
    if p.element_type != "ListItem":
        return None
    m = _PSEUDO_HEADING.match(p.text)
    if not m or len(_words(m.group("head"))) > 8:
        return None
    return m


_GENERIC_HEADINGS = {
    "summary", "overview", "introduction", "intro", "notes", "general", "details", "background",
    "recommendations", "guidelines", "tips", "rules", "best practices", "checklist", "faq",
    "lessons learned", "lessons", "dos and don'ts", "do's and don'ts", "exceptions", "context",
}  # fmt: skip

_CHECKLIST_HEADING = re.compile(
    r"(?i)\b(?:check\s?-?lists?|do'?s\s+and\s+don'?ts|dos\s*(?:&|and)\s*don'?ts|do\s*(?:&|and|/)\s*don'?t|"
    r"best\s+practices?|guidelines?|recommendations?|tips?|rules?|production\s+readiness|"
    r"readiness|good\s+practices?|conventions?|principles?)\b|^(?:do|don'?t|dos|don'?ts)$"
)
_FAQ_HEADING = re.compile(r"(?i)\b(?:faqs?|frequently\s+asked|questions|q\s*&\s*a)\b")
_QUESTION_START = re.compile(
    r"(?i)^(?:how|what|why|when|where|which|who|whom|whose)\s+"
    r"(?:do|does|did|is|are|was|were|can|could|should|shall|would|will|to\s+\w+\s+\w+\s+if|"
    r"if|happens|goes|makes|about|kind|sort|type)\b"
    r"|^(?:is|are|can|could|should|shall|do|does|did|must|may|will|would|has|have)\s+(?:i|we|you|a|an|the|my|our|it|there)\b"
)
_EXAMPLE_LEADIN = re.compile(r"(?i)^(?:for\s+)?examples?\b[^.!?]*:\s*$|^(?:here\s+are\s+)?(?:some\s+)?examples?\b.*:\s*$")


def _is_question_heading(text: str) -> bool:
    t = clean_heading(text)
    if t.endswith("?"):
        return len(_words(t)) >= 2
    # "How do we size requests" without the "?"; not "How to write code review comments"
    return bool(_QUESTION_START.match(t)) and not re.match(r"(?i)^(?:how|what|when|where|why)\s+to\b", t)


# ---------------------------------------------------------------------------------------------
# recommendation sentences

# Imperatives that open a sentence. Unambiguous verbs count anywhere; verbs that are also nouns
# ("Set", "Test", "Review") count only when followed by a determiner/pronoun.
_IMPERATIVE_STRONG = {
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
_AMBIGUOUS_IMPERATIVE = {
    "use", "record", "review", "set", "test", "list", "note", "plan", "name", "document", "cache",
    "start", "stop", "run", "move", "label", "comment", "call", "split", "read", "look", "go",
    "get", "find", "watch", "share", "hand", "wait", "focus", "measure", "update", "delete",
    "replace", "trust", "think", "take", "make", "do", "be", "leave", "let", "check", "fix",
    "limit", "balance", "try", "remove", "name", "separate",
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
    r"(?:should|must|to|please)\s+(?:never|always|avoid)|please\s+(?:do\s+not|don'?t)|"
    r"it\s+is\s+best\s+to|it'?s\s+best\s+to|it\s+is\s+better\s+to|it'?s\s+better\s+to|best\s+practice|"
    r"the\s+rule\s+is|rule\s+of\s+thumb|the\s+trick\s+is|the\s+key\s+is|what\s+worked\s+for\s+us|"
    r"lessons?\s*(?:learned)?\s*:|lessons?\s+learned|is\s+mandatory|are\s+mandatory)\b"
)
_WEAK_PHRASES = re.compile(
    r"(?i)\b(?:should|shouldn'?t|must|ought\s+to|try\s+to|"
    r"it\s+is\s+(?:often\s+|also\s+|very\s+)?(?:important|helpful|useful|worthwhile)\s+to|"
    r"it'?s\s+(?:often\s+|also\s+|very\s+)?(?:important|helpful|useful|worthwhile)\s+to|"
    r"is\s+important\s+that|a\s+good\s+idea|good\s+practice)\b"
)
_QUOTED = re.compile(r"\"[^\"]{8,}\"|“[^”]{8,}”")
# Sentences that are examples, quotations, navigation or meta rather than advice.
_NOT_ADVICE = re.compile(
    r"(?i)^(?:bad|good|example|e\.g|for\s+example,\s+say|next|previous|see\s+also|see|note:\s*nothing|"
    r"nit|optional|fyi)\s*[:\-]"
    r"|^[\"“'‘`]|^\s*```|^\s*//|^\s*#!|\{\.(?:bad|good)\}"
)
_HEDGES = re.compile(r"(?i)\b(?:maybe|perhaps|i\s+guess|i'?m\s+not\s+sure|not\s+sure|i\s+don'?t\s+know)\b")


def _first_word(sentence: str) -> tuple[str, str]:
    s = re.sub(r"(?i)^(?:note|tip|rule|hint|important|remember)\s*:\s*", "", sentence.strip())
    s = re.sub(r"^[\-*•\s]+", "", s)
    s = _CHECKBOX.sub("", s)
    s = _NUMBERING.sub("", s)
    words = re.findall(r"[A-Za-z'’]+", s)
    first = words[0] if words else ""
    second = words[1].lower() if len(words) > 1 else ""
    return first, second


def _imperative(text: str, initial: bool) -> bool:
    first, second = _first_word(text)
    lower = first.lower().replace("’", "'")
    if initial and not first[:1].isupper():
        return False
    if lower not in _IMPERATIVE_STRONG or (lower == "note" and second == "that"):
        return False  # "Note that ..." is an aside, judged by its modal verbs
    if not initial and lower in ("be", "do", "let", "go", "get", "make", "take", "think", "look"):
        return second in ("sure", "careful", "kind", "not", "a", "the")  # "If ..., make sure"
    return lower not in _AMBIGUOUS_IMPERATIVE or second in _AFTER_IMPERATIVE


def recommendation_strength(sentence: str) -> float:
    """How clearly a sentence gives advice: 1.0 (imperative, "always", "must", "we recommend"),
    0.5 (modal advice: "should", "try to", "it is important to"), 0 (not advice)."""
    s = sentence.strip()
    words = _words(s)
    if len(words) < MIN_SENTENCE_WORDS or len(s) > MAX_SENTENCE_CHARS:
        return 0.0
    if s.endswith("?") or _NOT_ADVICE.search(s) or _HEDGES.search(s):
        return 0.0
    if _imperative(s, initial=True):
        return 1.0
    # "Either way, encourage the author to...", "If you can't answer that, ask the reviewer..."
    lead = re.match(r"^([^,;:()\"]{3,80}),\s+", s)
    if lead and len(_words(lead.group(1))) <= 10 and _imperative(s[lead.end() :], initial=False):
        return 1.0
    unquoted = _QUOTED.sub('"…"', s)  # advice inside a quotation is not the author's advice
    if _STRONG_PHRASES.search(unquoted):
        return 1.0
    if _WEAK_PHRASES.search(unquoted):
        return 0.5
    return 0.0


def is_recommendation(sentence: str) -> bool:
    """True if the sentence gives advice (an imperative or modal advice)."""
    return recommendation_strength(sentence) > 0


# ---------------------------------------------------------------------------------------------
# the extractor


@dataclass
class _Element:
    passage: Passage
    path: tuple[str, ...]  # cleaned, noise-free section path (own tracking, see `_sections`)
    heading: str | None = None  # display text if this element is a heading
    item_span: tuple[int, int] | None = None  # span of the checklist item text, if an item
    skip: bool = False  # code, table, example, navigation...


@dataclass
class _Section:
    path: tuple[str, ...]
    items: list[tuple[Passage, tuple[int, int]]] = field(default_factory=list)
    recs: list[tuple[Passage, tuple[int, int], float]] = field(default_factory=list)
    problem: tuple[Passage, tuple[int, int]] | None = None
    explicit: bool = False  # a checklist heading / lead-in
    order: int = 0


_SKIP_TYPES = {"CodeSnippet", "Table", "TableChunk", "PageBreak", "Image", "Picture", "Figure",
               "Formula", "Header", "Footer", "PageNumber", "Address", "EmailAddress", "FigureCaption"}  # fmt: skip


class DocumentExtractor:
    """FAQs from question headings and FAQ sections; patterns from checklists and advice."""

    name = "documents"
    version = "1"
    source_kinds = frozenset({SourceKind.document})

    def __init__(self, min_pattern_strength: float = 1.0) -> None:
        # A section becomes a pattern when its advice adds up to at least this much
        # (one imperative / "always" / "must" sentence, or two "should" sentences), or when it
        # holds checklist items.
        self.min_pattern_strength = min_pattern_strength

    # -- public -------------------------------------------------------------------------------

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        """Extract FAQ and pattern candidates from one document's elements."""
        ordered = sorted(passages, key=lambda p: p.seq)
        elements = self._sections(ordered)
        doc_title = self._doc_title(source, elements)
        result = ExtractionResult()
        faqs, consumed = self._faqs(elements)
        patterns = self._patterns(elements, consumed, doc_title)
        by_id = {p.id: p for p in ordered}
        for cand in faqs + patterns:
            if all(quote_is_verbatim(e.quote, by_id[e.passage_id].text) for e in cand.evidence):
                result.candidates.append(cand)
            else:  # pragma: no cover - spans are cut from the text, so this cannot happen
                result.dropped += 1
        return result

    # -- structure ------------------------------------------------------------------------------

    def _sections(self, passages: list[Passage]) -> list[_Element]:
        """Each element with a cleaned section path.

        Starts from the parser's `section_path`, drops noise headings (page footers, checkbox
        lines mis-read as titles) and adds numbered pseudo-headings ("3. Timeline" list items,
        as PDFs often yield) until the next real heading.
        """
        out: list[_Element] = []
        pseudo: tuple[tuple[str, ...], str] | None = None  # (base path, heading)
        in_example = False
        for p in passages:
            base = tuple(h for h in (clean_heading(x) for x in p.section_path if not _is_noise_heading(x)) if h)
            text = p.text.strip()
            etype = p.element_type or ""
            el = _Element(passage=p, path=base)
            if etype == "Title" and not _is_noise_heading(text):
                pseudo = None
                in_example = False
                el.heading = clean_heading(text)
                el.path = base
                out.append(el)
                continue
            if etype == "Title" and _PAGE_FOOTER.search(text):
                el.skip = True
                out.append(el)
                continue
            m = _pseudo_heading(p)
            if m:
                in_example = False
                head = clean_heading(m.group("head"))
                pseudo = (base, head)
                el.heading = head
                rest = p.text[m.end() :]
                if _CHECKBOX.match(rest):  # "6. Postmortem checklist [ ] Summary ..."
                    start = m.end() + _CHECKBOX.match(rest).end()
                    el.item_span = (start, len(p.text.rstrip()))
                    el.heading = head
                el.path = base
                out.append(el)
                if el.item_span:  # the glued item belongs to the new section
                    out.append(_Element(passage=p, path=base + (head,), item_span=el.item_span))
                    el.item_span = None
                continue
            if pseudo and base == pseudo[0] or (pseudo and not base):
                el.path = pseudo[0] + (pseudo[1],)
            elif pseudo and base != pseudo[0]:
                pseudo = None
            if etype in _SKIP_TYPES or text.startswith("```") or len(_words(text)) < 2:
                el.skip = True
            if _EXAMPLE_LEADIN.match(text):
                in_example = True
                el.skip = True
            elif in_example:
                el.skip = True
            if _CHECKBOX.match(p.text):
                start = _CHECKBOX.match(p.text).end()
                el.item_span = (start, len(p.text.rstrip()))
            out.append(el)
        return out

    @staticmethod
    def _doc_title(source: Source, elements: list[_Element]) -> str:
        for el in elements:
            if el.heading and not el.path:
                return el.heading
        return PurePath(source.uri).stem.replace("-", " ").replace("_", " ").strip() or source.uri

    # -- FAQs ---------------------------------------------------------------------------------

    def _faqs(self, elements: list[_Element]) -> tuple[list[CandidateDraft], set[int]]:
        """FAQ candidates, and the indices of the elements they consumed (question + answers)."""
        faqs: list[CandidateDraft] = []
        consumed: set[int] = set()
        i = 0
        while i < len(elements):
            el = elements[i]
            q_kind = self._question_kind(el)
            if not q_kind:
                i += 1
                continue
            answers: list[int] = []
            j = i + 1
            while j < len(elements):
                nxt = elements[j]
                if nxt.heading or self._question_kind(nxt):
                    break
                if not nxt.skip and nxt.passage.text.strip():
                    answers.append(j)
                j += 1
            if answers and (q_kind == "heading" or len(_words(elements[answers[0]].passage.text)) >= 4):
                shown = answers[:MAX_ANSWER_ELEMENTS]
                faqs.append(self._faq(el, [elements[a] for a in shown], q_kind))
                consumed.update([i, *answers])  # the whole answer, so no pattern repeats it
            i = j if j > i + 1 else i + 1
        return faqs, consumed

    def _question_kind(self, el: _Element) -> str | None:
        p = el.passage
        text = p.text.strip()
        if el.heading:
            if el.path and _is_question_heading(text):  # not the document title itself
                return "heading"
            return None
        if el.skip or el.item_span or p.element_type not in ("NarrativeText", "UncategorizedText", "Title"):
            return None
        # a standalone question paragraph: one sentence, a real question, inside a FAQ section
        if not text.endswith("?") or len(sentence_spans(text)) != 1 or not 3 <= len(_words(text)) <= 40:
            return None
        if any(_FAQ_HEADING.search(h) for h in el.path):
            return "paragraph"
        return None

    def _faq(self, q: _Element, answers: list[_Element], q_kind: str) -> CandidateDraft:
        qp = q.passage
        question = clean_heading(qp.text) if q_kind == "heading" else re.sub(r"\s+", " ", qp.text.strip())
        parts = []
        for a in answers:
            t = _CHECKBOX.sub("", a.passage.text.strip())
            parts.append(f"- {t}" if a.passage.element_type == "ListItem" else t)
        evidence = [Evidence(passage_id=qp.id, quote=qp.text.strip(), role="question")]
        evidence += [Evidence(passage_id=a.passage.id, quote=a.passage.text.strip(), role="answer") for a in answers]
        in_faq = any(_FAQ_HEADING.search(h) for h in q.path)
        confidence = 0.6 + (0.15 if in_faq else 0.0) + (0.1 if q_kind == "heading" else 0.0)
        confidence += 0.05 if len(_words(" ".join(parts))) >= 15 else 0.0
        return CandidateDraft(
            kind=CandidateKind.faq,
            question=question,
            answer="\n".join(parts),
            context=" > ".join(q.path) or None,
            evidence=evidence,
            extractor=self.name,
            extractor_version=self.version,
            confidence=round(min(confidence, 0.95), 3),
        )

    # -- patterns -----------------------------------------------------------------------------

    def _patterns(self, elements: list[_Element], consumed: set[int], doc_title: str) -> list[CandidateDraft]:
        sections: dict[tuple[str, ...], _Section] = {}

        def section(path: tuple[str, ...]) -> _Section:
            if path not in sections:
                sections[path] = _Section(path=path, order=len(sections))
            return sections[path]

        lead_in_items = False  # list items following "you should make sure that:"
        nav = self._navigation_lists(elements)
        for idx, el in enumerate(elements):
            p = el.passage
            if el.heading and not el.item_span:
                lead_in_items = False
                continue
            if idx in consumed or el.skip or idx in nav:
                if p.element_type != "ListItem":
                    lead_in_items = False
                continue
            sec = section(el.path)
            is_item = p.element_type == "ListItem" or el.item_span is not None
            checklist = any(_CHECKLIST_HEADING.search(h) for h in el.path[-2:])
            if is_item and (checklist or lead_in_items or el.item_span):
                span = el.item_span or _item_span(p.text)
                if span and len(_words(p.text[span[0] : span[1]])) >= 2:
                    sec.items.append((p, span))
                    sec.explicit = True
                continue
            if not is_item:
                lead_in_items = False
            for s, e in sentence_spans(p.text):
                sentence = p.text[s:e]
                strength = recommendation_strength(sentence)
                if strength and sentence.rstrip().endswith(":") and not is_item:
                    lead_in_items = True  # "In doing a code review, you should make sure that:"
                    sec.explicit = True
                    continue
                if strength:
                    sec.recs.append((p, (s, e), strength))
                elif (
                    sec.problem is None and not sec.recs and not is_item
                    and 6 <= len(_words(sentence)) and len(sentence) <= 300
                    and not sentence.endswith((":", "?")) and not _NOT_ADVICE.search(sentence)
                ):  # fmt: skip
                    sec.problem = (p, (s, e))

        out = []
        for sec in sorted(sections.values(), key=lambda x: x.order):
            strength = sum(r[2] for r in sec.recs)
            if not sec.items and strength < self.min_pattern_strength:
                continue
            out.append(self._pattern(sec, doc_title))
        return out

    @staticmethod
    def _navigation_lists(elements: list[_Element]) -> set[int]:
        """Indices of list items in runs that look like a table of contents / link list."""
        nav: set[int] = set()
        run: list[int] = []

        def flush() -> None:
            if len(run) >= 2 and sum(_looks_like_link_title(elements[k].passage.text) for k in run) >= 0.8 * len(run):
                nav.update(run)
            run.clear()

        for idx, el in enumerate(elements):
            if el.passage.element_type == "ListItem" and not el.heading:
                run.append(idx)
            else:
                flush()
        flush()
        return nav

    def _pattern(self, sec: _Section, doc_title: str) -> CandidateDraft:
        path = sec.path
        heading = path[-1] if path else doc_title
        if heading.lower() in _GENERIC_HEADINGS and len(path) >= 2:
            name = f"{path[-2]}: {heading}"
        elif not path:
            name = doc_title
        else:
            name = heading
        evidence: list[Evidence] = []
        items = []
        for p, (s, e) in sec.items:
            items.append(re.sub(r"\s+", " ", p.text[s:e]).strip())
            evidence.append(Evidence(passage_id=p.id, quote=p.text.strip(), role="item"))
        recs = []
        for p, (s, e), _ in sec.recs:
            recs.append(re.sub(r"\s+", " ", p.text[s:e]).strip())
            evidence.append(Evidence(passage_id=p.id, quote=p.text[s:e], role="recommendation"))
        problem = None
        if sec.problem is not None:
            p, (s, e) = sec.problem
            problem = re.sub(r"\s+", " ", p.text[s:e]).strip()
            evidence.append(Evidence(passage_id=p.id, quote=p.text[s:e], role="context"))
        strong = sum(1 for r in sec.recs if r[2] >= 1.0)
        n = len(items) + len(recs)
        confidence = 0.4 + min(0.25, 0.05 * n) + (0.2 if sec.explicit else 0.0) + min(0.1, 0.05 * strong)
        return CandidateDraft(
            kind=CandidateKind.pattern,
            name=name,
            context=" > ".join(path) or doc_title,
            problem=problem,
            recommendation=" ".join(recs) or None,
            items=items,
            evidence=evidence,
            extractor=self.name,
            extractor_version=self.version,
            confidence=round(min(confidence, 0.95), 3),
        )


def _item_span(text: str) -> tuple[int, int] | None:
    """The span of a list item's text without a checkbox / bullet / number marker."""
    m = re.match(r"^\s*(?:[-*•]\s*)?(?:\[[ xX✓✔]?\]\s*)?(?:\d{1,2}[.)]\s+)?", text)
    start = m.end() if m else 0
    end = len(text.rstrip())
    return (start, end) if end > start else None


def _looks_like_link_title(text: str) -> bool:
    """A navigation entry: a markdown link, a bare URL, or a short Title Case phrase with no
    sentence punctuation ("Writing Good CL Descriptions", "How to Handle Reviewer Comments")."""
    t = text.strip()
    if re.fullmatch(r"\[[^\]]+\]\([^)]+\)\W*", t) or re.fullmatch(r"https?://\S+", t):
        return True
    if t.endswith((".", "!", "?", ";")) or ":" in t and not t.endswith(":") and len(_words(t)) > 6:
        return False
    words = _words(t)
    if not words or len(words) > 9:
        return False
    small = {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "with", "by", "at", "as"}
    caps = [w for w in words if w.lower() not in small]
    return bool(caps) and sum(w[0].isupper() for w in caps) >= 0.8 * len(caps)

