"""Offline document extractor: FAQ sections, checklists and recommendation sentences.

Reads the elements of one document (unstructured's categories: Title, NarrativeText, ListItem,
Table, CodeSnippet, UncategorizedText...) in reading order and proposes:

FAQ        a question heading ("How do we deal with flaky tests?") or a standalone question
           paragraph, answered by the elements that follow it up to the next heading or
           question. Standalone question paragraphs count only inside a FAQ-like section
           ("FAQ", "Frequently asked questions", "Q&A"), where they are the question of a pair.
pattern    built by `extractors.document_patterns`: one per section that gives advice
           (checklist items, and sentences `extractors.advice.score_advice` scores as advice;
           a sentence that introduces a list keeps it), one per decision or action the minutes
           mark ("RESOLVED:", "ACTION:", "we agreed"); named for the practice, not a generic
           heading (`extractors.naming`).

Pure: no I/O. Every quote is an exact substring of its passage text (sentences are cut out of
the text by their character spans; only the display fields are cleaned).

Noise that is skipped: code blocks (and the "# comments" of a fence the parser did not
recognise, which are no headings), tables, example blocks ("Example:", "Bad:", "Good:"),
navigation lists (items that are only link titles) and sections ("Further reading"), page
footers, very short fragments and over-long sentences.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from extractors.advice import CHECKBOX as _CHECKBOX
from extractors.advice import NUMBERING as _NUMBERING
from extractors.advice import score_advice
from extractors.base import ExtractionResult, quote_is_verbatim
from extractors.document_patterns import Element as _Element
from extractors.document_patterns import find_patterns
from pipeline.text import sentence_spans
from pipeline.text import tokens as _words
from pipeline.models import CandidateDraft, CandidateKind, Evidence, Passage, Source, SourceKind

__all__ = [
    "DocumentExtractor",
    "clean_heading",
    "is_recommendation",
    "recommendation_strength",
]

MAX_ANSWER_ELEMENTS = 8

# ---------------------------------------------------------------------------------------------
# headings

_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")
_MD_MARKS = re.compile(r"^[#>*_\s]+|[*_`]+$")


def clean_heading(text: str) -> str:
    """A heading for display: no "{#anchor}", numbering ("3.", "2.1", "IV."), markdown marks."""
    t = _ANCHOR.sub("", text.strip())
    t = _MD_MARKS.sub("", t).strip()
    t = _NUMBERING.sub("", t).strip()
    t = re.sub(r"\s+", " ", t)
    return t.rstrip(":").strip()


_PAGE_FOOTER = re.compile(r"(?i)\bpage\s+\d+(\s+of\s+\d+)?\s*$|^\s*\d+\s*$|^\s*-\s*\d+\s*-\s*$")
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
# recommendation sentences (the scored decision lives in extractors.advice)


def recommendation_strength(sentence: str) -> float:
    """How clearly a sentence gives advice: 1.0 (imperative, "always", "must", "we recommend"),
    0.5 (modal advice: "should", "try to", "it is important to"), 0 (not advice). See
    `extractors.advice.score_advice` for the features behind it."""
    return score_advice(sentence).strength


def is_recommendation(sentence: str) -> bool:
    """True if the sentence gives advice (an imperative or modal advice)."""
    return recommendation_strength(sentence) > 0


# ---------------------------------------------------------------------------------------------
# the extractor


# a fence line the parser left as its own element: it did not see the code block
_FENCE_OPENER = re.compile(r"^(?:`{3,}|~{3,})[\w+.-]*$")
MAX_FENCE_ELEMENTS = 30
_FENCE_END = re.compile(r"(?:`{3,}|~{3,})\s*$")
_SKIP_TYPES = {"CodeSnippet", "Table", "TableChunk", "PageBreak", "Image", "Picture", "Figure",
               "Formula", "Header", "Footer", "PageNumber", "Address", "EmailAddress", "FigureCaption"}  # fmt: skip


class DocumentExtractor:
    """FAQs from question headings and FAQ sections; patterns from checklists and advice."""

    name = "documents"
    version = "4"
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
        patterns = find_patterns(elements, consumed, doc_title, self.min_pattern_strength, (self.name, self.version))
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
        in_fence = 0  # elements since an opening fence the parser did not recognise (e.g. in a blockquote)
        code_titles: set[str] = set()  # "# comments" of such a fence, mis-read as headings
        for p in passages:
            base = tuple(
                h for h in (clean_heading(x) for x in p.section_path if not _is_noise_heading(x) and x not in code_titles) if h
            )  # fmt: skip
            text = p.text.strip()
            etype = p.element_type or ""
            el = _Element(passage=p, path=base)
            if in_fence or _FENCE_OPENER.match(text):
                # a line of code is never a heading, and code is not prose
                closing = in_fence > 0 and bool(_FENCE_END.search(text))
                in_fence = 0 if closing or in_fence >= MAX_FENCE_ELEMENTS else in_fence + 1
                if etype == "Title":
                    code_titles.add(text)
                el.skip = True
                out.append(el)
                continue
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
