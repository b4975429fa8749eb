"""An offline stand-in for the spaCy model behind unstructured's text-type heuristics.

unstructured (0.27.x) classifies text (narrative text vs. title vs. uncategorized) with
three helpers in `unstructured.nlp.tokenize` — `sent_tokenize`, `word_tokenize` and
`pos_tag` (the latter feeds `text_type.contains_verb`) — and all three run one spaCy
pipeline obtained from `tokenize._get_nlp()`. That function loads `en_core_web_sm` and, when
the model is missing, downloads and installs it at first use: offline that raises, and DOCX,
PPTX, HTML, Markdown and plain-text partitioning fail with it.

When the model is installed it is used unchanged. When it is not, `ensure_offline_nlp`
replaces `tokenize._get_nlp` with a lightweight pipeline: spaCy's rule-based English
tokenizer (no model), its punctuation-based "sentencizer" for sentence boundaries, and a
heuristic part-of-speech guess that only tells verbs apart (a word list of auxiliaries and
common verbs plus inflection suffixes). Patching `_get_nlp` — rather than the three public
helpers — matters because `unstructured.partition.text_type` imported those helpers by name,
so only the function they all call at run time reaches every caller.

In both cases `tokenize._install_spacy_model` is replaced by a function that refuses, so
partitioning can never try a download (DESIGN.md invariant 6: offline by default).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm"

_lock = threading.Lock()
_mode: str | None = None  # "spacy-model" or "offline-heuristics" once installed

# Penn Treebank tags as spaCy's English tagger would produce them; unstructured treats
# VB, VBD, VBG, VBN, VBP and VBZ as verbs.
_AUXILIARIES: dict[str, str] = {
    "is": "VBZ", "are": "VBP", "was": "VBD", "were": "VBD", "be": "VB", "been": "VBN",
    "being": "VBG", "am": "VBP", "'s": "VBZ", "'re": "VBP", "'m": "VBP", "has": "VBZ",
    "have": "VBP", "had": "VBD", "having": "VBG", "'ve": "VBP", "do": "VBP", "does": "VBZ",
    "did": "VBD", "done": "VBN", "'d": "MD", "'ll": "MD", "ca": "MD", "can": "MD",
    "could": "MD", "will": "MD", "wo": "MD", "would": "MD", "shall": "MD", "should": "MD",
    "may": "MD", "might": "MD", "must": "MD", "ought": "MD",
}  # fmt: skip

# Common verbs in their base form. Many double as nouns ("review", "test"), so a base form
# only counts as a verb where a verb is expected (see _BASE_VERB_CONTEXT); inflected forms
# ("reviews", "tested", "testing") count anywhere.
_BASE_VERBS = frozenset(
    """accept add agree allow book apply approve argue arrange ask assign assume attach attend avoid
    become begin believe belong break bring build buy call cancel care carry catch change check
    choose clean clear close collect come compare complete configure confirm consider contain
    continue contribute control copy cost cover create cut deal decide define delete deliver
    depend deploy describe design detect determine develop die discuss do document draw drive
    drop eat enable encourage end ensure enter estimate expect explain fail fall feel fill find
    finish fit fix follow forget get give go grow handle happen hate have hear help hold hope
    identify ignore implement improve include increase inform install introduce involve join
    keep kill know lead learn leave let lie like limit listen live load look lose love maintain
    make manage matter mean measure meet merge mention migrate mind miss monitor move need note
    notice obtain occur offer open order own pair pass pay perform pick plan play point prefer
    prepare present prevent produce protect prove provide publish pull push put raise reach read
    realise realize receive recognise recognize recommend record reduce refer reflect refuse
    relate release rely remain remember remove repeat replace reply report represent request
    require resolve respond rest restart restore return review revoke rotate run save say schedule
    see seem sell send serve set share show sign sit skip sleep solve sort speak spend stand start
    stay stop store suggest supply support suppose take talk teach tell tend test thank think
    throw track train travel treat try turn understand update upgrade use validate verify visit
    wait walk want warn watch wear win wish wonder work worry write""".split()
)
# A base-form verb is only read as a verb after these (or first in a sentence: imperatives).
_BASE_VERB_CONTEXT = frozenset(
    """to i we you they not n't never also please can could will would shall should may might
    must do does did 'll 'd ca wo let just always often""".split()
)
# Words after which an "-s" form is a plural noun ("the tests"), not a verb ("it tests").
_NOT_SUBJECTS = frozenset(
    """a an the this these those my our your their his her its some many all any no few
    several of for with and or in on at by from into about""".split()
)
# Frequent words with a verb-like ending that are not verbs.
_NOT_VERBS = frozenset(
    """anything bed building ceiling during everything evening feed hundred indeed king kindred
    morning naked nothing red ring sacred seed shed sibling something speed spring string thing
    things wedding wicked""".split()
)


def _verb_tag(word: str, previous: str | None, last: bool = False) -> str | None:
    """A guessed verb tag for one lower-cased token, or None for a non-verb.

    `previous` is the word before it in the sentence (None at the start) and `last` says
    whether it ends the sentence: "-s" forms are plural nouns far more often than verbs
    at the start or end of a phrase ("Notes on testing", "release notes").
    """
    if word in _AUXILIARIES:
        return _AUXILIARIES[word]
    if not word.isalpha() or word in _NOT_VERBS:
        return None
    if word in _BASE_VERBS:
        return "VB" if previous is None or previous in _BASE_VERB_CONTEXT else None
    if len(word) > 4 and word.endswith("ing"):
        return "VBG"
    if len(word) > 3 and word.endswith("ed"):
        return "VBD"
    if not word.endswith("s") or previous is None or last or previous in _NOT_SUBJECTS:
        return None
    stems = (word[:-1], word[:-2], word[:-3] + "y")  # tests, fixes, applies
    return "VBZ" if any(stem in _BASE_VERBS for stem in stems) else None


class HeuristicEnglish:
    """Quacks like the spaCy `Language` unstructured expects: `nlp(text)` and `max_length`.

    Tokens come from spaCy's rule-based English tokenizer, sentences from the sentencizer,
    and `token.tag_` is a verb tag where `_verb_tag` guesses one, "NN" otherwise.
    """

    def __init__(self) -> None:
        import spacy

        self._nlp = spacy.blank("en")
        self._nlp.add_pipe("sentencizer")
        self.max_length: int = self._nlp.max_length

    def __call__(self, text: str) -> Any:
        doc = self._nlp(text)
        for sentence in doc.sents:
            words = [t for t in sentence if not t.is_punct and not t.is_space]
            for token in sentence:
                token.tag_ = "." if token.is_punct else "NN"
            # A two-word phrase opening with a base verb is a label ("Release notes", "Code
            # review"), not an imperative.
            previous: str | None = None if len(words) > 2 else "<label>"
            for index, token in enumerate(words):
                tag = _verb_tag(token.lower_, previous, last=index == len(words) - 1)
                if tag:
                    token.tag_ = tag
                previous = token.lower_
        return doc


def _refuse_download() -> None:
    raise RuntimeError(
        f"spaCy model {SPACY_MODEL} is not installed and Practice Index never downloads it "
        "(offline by default)"
    )


def model_installed() -> bool:
    """True if spaCy's `en_core_web_sm` is installed as a package."""
    import spacy.util

    return bool(spacy.util.is_package(SPACY_MODEL))


def ensure_offline_nlp() -> str:
    """Make unstructured's text heuristics work with no network; safe to call many times.

    Returns "spacy-model" when `en_core_web_sm` is installed (and then used as is), or
    "offline-heuristics" when the lightweight replacement was installed (logged once).
    """
    global _mode
    if _mode is not None:
        return _mode
    with _lock:
        if _mode is not None:
            return _mode
        import unstructured.nlp.tokenize as tokenize

        tokenize._install_spacy_model = _refuse_download
        if model_installed():
            _mode = "spacy-model"
            return _mode
        heuristic = HeuristicEnglish()
        tokenize._get_nlp = lambda: heuristic
        # Nothing can be cached before this point (every call raised), but clear anyway so a
        # half-initialised state never leaks through.
        for cached in (
            tokenize._process_cached,
            tokenize.word_tokenize,
            tokenize.pos_tag,
            tokenize._tokenize_for_cache,
        ):
            cached.cache_clear()
        log.info(
            "spaCy model %s is not installed: document partitioning uses an offline heuristic "
            "sentence splitter and verb check instead (install %s for spaCy's tagger)",
            SPACY_MODEL,
            SPACY_MODEL,
        )
        _mode = "offline-heuristics"
        return _mode
