"""The product's one text toolkit: words, stop words, stemming, sentences and asking sentences.

Extractors (answer ranking, question isolation), dedup (lexical evidence) and search (BM25) all
read text through these functions, so a word means the same thing everywhere: one stop list,
one stemmer, one sentence splitter. Pure functions, no I/O.

The stop list is general English plus the social words of help requests ("hi", "thanks",
"please advise"): no community or dataset vocabulary belongs here.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "STOP_WORDS",
    "asks",
    "content_words",
    "has_question_mark",
    "is_generic_question",
    "is_question",
    "leans_on_previous",
    "without_opener",
    "needs_antecedent",
    "refers_back",
    "sentence_is_question",
    "sentence_spans",
    "split_sentences",
    "stem",
    "tokens",
    "words",
]

WORD = re.compile(r"[A-Za-z][\w'’]*|\d+(?:[.,]\d+)?")

STOP_WORDS = frozenset(
    """a an the and or but if of to in on at for from by with about as into than then so too very is are was were be
    been being am do does did doing have has had having i me my we our you your u ur he she it its they them their this
    that these those there here what which who whom whose when where why how can could would should will shall may might
    must not no yes any anyone anybody some someone somebody all also just only please pls plz thanks thank thanx thx hi
    hello dear regards know want need get got like one im i'm it's don't dont doesn't isn't ve ll re s t d m let lets
    tell advise advice help suggest suggestion suggestions recommend idea ideas info information kindly guys friends
    everyone everybody much many more most other there's what's where's""".split()
)


def tokens(text: str) -> list[str]:
    """The word tokens of `text` as written (case and "'s" kept): letters with inner apostrophes
    or underscores, or numbers ("3.5" is one). A hyphen separates ("well-known" is two). For
    counting words and reading their case; `words` gives the normalised form."""
    return WORD.findall(text or "")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters with inner apostrophes, or numbers), "'s" dropped."""
    out = []
    for t in tokens(text):
        w = t.lower().replace("’", "'")
        out.append(w[:-2] if w.endswith("'s") else w)
    return out


@lru_cache(maxsize=1 << 16)  # a pure function of one word, asked for the same words all run long
def stem(word: str) -> str:
    """A light suffix stemmer that makes the forms of one word meet: packages / package →
    packag, policies → policy, creating / created / create → creat, boxes → box.

    Deliberately conservative (short words are left alone): lexical overlap, dedup and BM25 only
    need the forms of a word to meet, not a linguistic root.
    """
    w = word
    if len(w) > 5 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 6 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 5 and w.endswith("ed"):
        w = w[:-2]
    elif len(w) > 4 and w.endswith("es") and w[-3] in "sxz" or w.endswith(("ches", "shes")) and len(w) > 5:
        return w[:-2]
    elif len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def content_words(text: str) -> list[str]:
    """Stemmed words of `text` without stop words or one-letter words (order and repeats kept)."""
    return list(_content_words(text))


# Extraction and dedup compare the same texts again and again: the words of a recent text are
# kept, not re-split.
@lru_cache(maxsize=1 << 14)
def _content_words(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1)


# --------------------------------------------------------------------------- question marks

# A "?" that does not end a sentence: inside a URL ("issues/detail?id=3"), inside inline code,
# glued to a following word ("doesn?t": a mail archive replaced a non-ASCII character), or a
# lone " ? " (a replaced dash or quote). Such marks are hidden while splitting and asking.
_HIDDEN_Q = "\ue000"
_URL = re.compile(r"(?:https?://|www\.)\S+|\b\S+\?\S*=\S*|\S*/[\w.\-]+\?(?=\s)")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_GLUED_Q = re.compile(r"\?(?=[\w'\"(\[])")
_LONE_Q = re.compile(r"(?<=\s)\?(?=\s)")
# "?quoted?" where an archive replaced curly quotes: the opening one is glued (above), the
# closing one sits right after a word: hide both when they pair up on one line.
_REPLACED_QUOTES = re.compile(r"(?<![\w?])\?(\w[^?\n]{0,60}?)\?(?=[\s.,;:)]|$)")


def _hide_marks(text: str) -> str:
    def hide(m: re.Match[str]) -> str:
        return m.group(0).replace("?", _HIDDEN_Q)

    text = _URL.sub(hide, text)
    text = _INLINE_CODE.sub(hide, text)
    text = _REPLACED_QUOTES.sub(lambda m: _HIDDEN_Q + m.group(1) + _HIDDEN_Q, text)
    text = _GLUED_Q.sub(_HIDDEN_Q, text)
    return _LONE_Q.sub(_HIDDEN_Q, text)


def has_question_mark(text: str) -> bool:
    """True if a "?" in `text` ends an asking sentence (not one in a URL, code or a replaced character)."""
    return "?" in _hide_marks(text or "")


# --------------------------------------------------------------------------- sentences

# Two kinds of text, one splitter (`sentence_spans`), both with the "?" protection above:
# prose (documents, transcripts): a sentence ends at . ! ? … (plus closing quotes/brackets)
# before a word that may start a sentence, or at a blank line or a new bullet; a single line
# break inside a paragraph does not end it. Messages (chat, mail, `lines=True`): every line
# break ends one, and so do . ! ? before any whitespace, a "?" glued to the next word and
# "end.Next" (not after "e.g.", "i.e.", "etc.", "vs.", "cf.").
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx",
    "inc", "ltd", "jr", "sr", "al", "p", "pp", "ch", "sec", "min", "max", "u.s", "u.k",
}  # fmt: skip
_PROSE_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
_LINE_BOUNDARY = re.compile(
    r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<!\bvs\.)(?<!\bcf\.)\s+|\n+|(?<=\?)(?=\S)|(?<=[a-z]\.)(?=[A-Z])"
)
#: A mail client wraps at ~72 columns: a line at least this long that ends in a word or a comma
#: continues on the next line even when that line starts with a capital ("…both the Authors@R
#: and\nMaintainer fields.").
WRAPPED_LINE = 50


def sentence_spans(text: str, lines: bool = False) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, whitespace trimmed.

    Prose by default (see above); `lines=True` reads a message, where each line break ends a
    sentence. Abbreviations ("e.g.", "Dr.") and decimals do not end sentences, nor does a "?"
    inside a URL, inline code or standing for a replaced character. `text[s:e]` is always an
    exact substring, so it can serve as a verbatim quote.
    """
    text = text or ""
    hidden = _hide_marks(text)  # same length as `text`: spans found in it hold for `text`
    spans: list[tuple[int, int]] = []
    start = 0
    if lines:
        for m in _LINE_BOUNDARY.finditer(hidden):
            _add_span(text, start, m.start(), spans)
            start = m.end()
    else:
        for m in _PROSE_BOUNDARY.finditer(hidden):
            if m.group(0)[0] in ".!?…" and not _ends_prose_sentence(hidden, start, m):
                continue
            _add_span(text, start, m.end(), spans)
            start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _ends_prose_sentence(text: str, start: int, m: re.Match[str]) -> bool:
    """Whether the mark `m` ends a prose sentence: what follows looks like a new sentence and
    the full stop does not end an abbreviation or an initial ("J. Smith")."""
    rest = text[m.end() :].lstrip()
    if not rest or not (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'“‘([{*-•#"):
        return False
    if m.group(0).startswith(".") and len(m.group(0).rstrip("\"'”’)]")) == 1:
        word = re.search(r"([\w.]+)$", text[start : m.start()])
        if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            return False
        if word and len(word.group(1)) == 1 and word.group(1).isupper():
            return False
    return True


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _unwrap(text: str) -> str:
    """Hard-wrapped lines rejoined: a line break before a lower-case word, a digit or "(", or
    after a long line ending in a word or a comma, continues the sentence."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        prev, head = out[-1], line.lstrip()[:1]
        joins = bool(prev.strip()) and bool(head) and not prev[-1:].isspace() and (
            head.islower() or head.isdigit() or head == "("
            or (len(prev) >= WRAPPED_LINE and re.search(r"[\w,]$", prev) is not None and head.isalpha())
        )  # fmt: skip
        if joins:
            out[-1] = prev.rstrip() + " " + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)


def split_sentences(text: str) -> list[str]:
    """Sentences of a message (. ! ? and line breaks end one; hard-wrapped mail lines are rejoined).

    A "?" inside a URL, inline code or standing for a replaced character does not end a sentence.
    """
    # Mail bodies are hard-wrapped at ~72 columns: a line break before a lower-case word
    # continues the sentence, it does not end it.
    text = _unwrap(text or "")
    parts = []
    for s, e in sentence_spans(text, lines=True):
        chunk = text[s:e].strip(" \t;,-–—")
        if len(chunk) > 1:
            parts.append(chunk)
    return parts


# --------------------------------------------------------------------------- asking sentences

_INTERROGATIVE = re.compile(
    r"^(?:who|whom|whose|what|what's|whats|when|where|where's|which|why|how|is|are|am|was|were|can|could|would|"
    r"should|shall|will|do|does|did|has|have|had|may|might|any|anyone|anybody|someone|somebody|isn'?t|aren'?t|"
    r"can'?t|won'?t|don'?t|doesn'?t|didn'?t)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:any|some)\s*(?:one|body)\s+(?:know|knows|tried|have|has|recommend|suggest|help|advise|please|can|could)\b"
    r"|\b(?:does|do|can|could|would|will|did|has)\s+(?:any|some)\s*(?:one|body|people)\b"
    r"|\bhow\s+(?:do|can|should|would|to|much|many|long|about)\b"
    r"|\bany\s+(?:advice|advise|idea|ideas|suggestions?|recommendations?|tips?|help|info|information|thoughts|pointers)\b"
    r"|\b(?:please|pls|plz|kindly)\s+(?:help|advise|advice|suggest|recommend|tell|let\s+me\s+know|share|guide)\b"
    r"|\b(?:i|we)\s+(?:need|want|would\s+like|'d\s+like)\s+(?:to\s+(?:know|find|ask)|some\s+(?:help|advice|info)|help|advice"
    r"|your\s+(?:help|advice|opinion))\b"
    r"|\b(?:wondering|curious)\s+(?:if|whether|how|what|why|where|when|about)\b"
    r"|\blooking\s+for\b"
    r"|\b(?:can|could)\s+(?:you|u|someone|anyone)\b"
    r"|\bwhere\s+(?:can|could|to|is|are|do)\b|\bwhat\s+(?:is|are)\s+the\s+best\b|\bwhich\s+is\s+(?:the\s+)?better\b"
    r"|\bneed\s+(?:your\s+)?(?:help|advice|advise|suggestions?|recommendations?)\b",
    re.IGNORECASE,
)


# An inverted question ("Is there a way…", "Can I…", "Does anyone…") asks even when a writer
# closes it with a full stop.
_INVERTED = re.compile(
    r"^(?:is|are|can|could|do|does|did|should|would|will|has|have)\s+(?:there|i|we|you|it|anyone|anybody|someone|somebody)\b",
    re.IGNORECASE,
)


def sentence_is_question(sentence: str) -> bool:
    """A sentence that asks by its form: ends with a real "?", opens with an interrogative
    ("how", "what") and is not closed by a full stop, or is an inverted question ("Is there a
    way…", "Can I…")."""
    s = _hide_marks(sentence.strip())
    if s.endswith("?") or (_INVERTED.match(s) and len(s.split()) >= 4):
        return True
    return bool(_INTERROGATIVE.match(s) and len(s.split()) >= 3 and not s.endswith("."))


def asks(sentence: str) -> bool:
    """A sentence that asks: a real "?", an interrogative opening, or a request ("does anyone
    know", "any advice", "please advise")."""
    s = sentence.strip()
    if has_question_mark(s):
        return True
    if _INTERROGATIVE.match(s) and len(s.split()) >= 3:
        return True
    return bool(_REQUEST.search(s))


def is_question(text: str) -> bool:
    """True if the text asks something anywhere (a real "?", an interrogative sentence, a request)."""
    t = (text or "").strip()
    if not t:
        return False
    if has_question_mark(t) or _REQUEST.search(t):
        return True
    return any(sentence_is_question(s) for s in split_sentences(t))


# A pronoun that points back at something the sentence itself does not name.
_BACK_REFERENCE = re.compile(r"\b(?:it|this|that|that one|these|those|them|they|its|their)\b", re.IGNORECASE)
_MAX_BARE_WORDS = 4  # an asking sentence this short, with a back-reference, cannot stand alone
# Words that name no problem: a question made only of these and stop words cannot stand alone
# ("Any ideas?", "What am I missing?", "Is that possible?", "How do I fix this error?").
# Stemmed, so "works"/"working" meet "work".
_GENERIC_WORDS = frozenset(
    stem(w)
    for w in """thought thoughts pointer pointers clue clues insight insights hint hints input feedback comment comments
    wrong missing miss missed misunderstanding something anything nothing everything possible impossible doable right
    correct supposed ok okay sure fine normal expected behaviour behavior problem issue error cause reason way go going
    happen happening doing done solution solutions solve solved fix fixed work works working stuck am do here now else
    ahead next step steps best better good bad approach option alternative alternatives proper recommended
    recommendation suggestion idea opinion opinions question answer mean case try tried trying thing see say use make
    take understand explain clarify example point appreciated welcome obvious anybody""".split()
)


def needs_antecedent(sentence: str) -> bool:
    """Whether an asking sentence leans on the one before it ("Is there a way to do it without
    downtime?" after "We need to rotate the Postgres password."): it refers back with a pronoun
    and names at most a few things itself."""
    return bool(_BACK_REFERENCE.search(sentence)) and len(content_words(sentence)) <= _MAX_BARE_WORDS


# A sentence that opens by pointing at the one before it: a contrast, an example of it, an
# alternative to it, or "this"/"these" standing for it.
_OPENS_ON_PREVIOUS = re.compile(
    r"^\W*(?:however|for\s+(?:example|instance)|e\.g\.|instead|otherwise|in\s+(?:this|that|these|such)\s+cases?"
    r"|in\s+addition|additionally|also|but|so|then|this|that|these|those|such|it)\b",
    re.IGNORECASE,
)


def leans_on_previous(sentence: str) -> bool:
    """Whether `sentence` opens by leaning on the sentence before it ("However, …", "For
    example, …", "Instead, prefer:", "This should be done when…"): read alone, it has lost the
    rule it qualifies, so it must be kept with that sentence."""
    return bool(_OPENS_ON_PREVIOUS.match(sentence))


_OPENER = re.compile(r"^(?:(?:so|also|and|but|ok(?:ay)?|well|btw|anyway|now)\b\s*[,:-]?\s*)+(?=\w)", re.IGNORECASE)


def without_opener(sentence: str) -> str:
    """`sentence` without the talk that opens it ("So how do I…?" -> "How do I…?", "Also, …"),
    which points at a conversation a stored question no longer has."""
    rest = _OPENER.sub("", sentence, count=1)
    if rest == sentence or len(rest.split()) < 3:
        return sentence
    return rest[0].upper() + rest[1:]


def refers_back(text: str) -> bool:
    """Whether `text` points back at something said before it ("This should be done…", "use an
    annotation to suppress it"): as a name or a claim it cannot stand alone."""
    return bool(_BACK_REFERENCE.search(text))


def is_generic_question(sentence: str) -> bool:
    """A question too generic to stand alone: it names nothing it is about. "Any ideas?",
    "What am I missing?", "Is that possible?", "What should I do?", "How do I fix this?" are
    generic (a closer whose problem is stated before it); "What is GitOps?" is not (one specific
    word is enough to say what it is about). Extractors, dedup and search read it alike."""
    return all(w in _GENERIC_WORDS for w in content_words(sentence))
