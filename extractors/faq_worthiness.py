"""Is this thread a FAQ candidate? A small scored decision a reviewer can inspect.

Not every message with a "?" is a question a community lead would keep: outage pings ("is it
just me or X is down?"), logistics ("who is coming on Thursday?", "is this the room for…?"),
announcements ("Beta privileges will change…", "recordings of the spring meetup are up"),
chit-chat ("how is everyone?"), polls ("does anyone use X?"), questions that point at what
someone said earlier ("How does X break @jane's convention?"), suggestions phrased as questions
("have you tried X?") and, in chat, clarifications inside an exchange ("Do you mean `syntax`?")
are not. Nor is a question that asks someone for their stance or commitment ("do you think…?",
"Will the government commit to…?", "When will the minister…?"): it is debate, and its answer is
a position, not knowledge a community keeps. Each thread gets a handful of features, each a
number with a fixed meaning; the score is their weighted sum and the thread is a FAQ candidate
when the score is at least 0. The features and the score are returned, so the decision can be
logged and tested.

The weights are set by reasoning (a strong "not a FAQ" cue outweighs a plain question; a
specific technical question outweighs a weak cue), not fitted to labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.text import content_words, has_question_mark, is_generic_question, needs_antecedent, split_sentences

__all__ = ["WEIGHTS", "Worthiness", "faq_worthiness"]

_OUTAGE = re.compile(
    r"\bis\s+it\s+(?:just|only)\s+me\b|\b(?:just|only)\s+me\s+or\b"
    r"|\bis\s+(?:the\s+)?[\w.\-]+(?:\s+(?:site|server|service|system))?\W{0,2}\s+\W?(?:down|offline|broken|dead)\b"
    r"|\b(?:down|offline)\s+for\s+(?:anyone|everyone|everybody)\b|\banyone\s+else\s+(?:seeing|having|getting)\b"
    r"|\b(?:site|server|service|website|build\s+farm)\s+(?:is\s+)?(?:down|unreachable)\b"
    r"|\bis\s+(?:the\s+)?[\w.\-]+\s+(?:unstable|slow|laggy|lagging|flaky)\b|\bor\s+is\s+it\s+(?:just\s+)?(?:me|my)\b",
    re.IGNORECASE,
)
_ANNOUNCEMENT = re.compile(
    r"\b(?:we(?:'re|\s+are)\s+(?:pleased|happy|excited|thrilled)|announc\w*|(?:is|are|has\s+been)\s+(?:now\s+)?released"
    r"|new\s+release|release\s+notes|recordings?\b|slides\s+(?:are|from)|(?:will|is\s+going\s+to)\s+change"
    r"|privileges|reminder|join\s+us|rsvp|register\s+(?:now|here)|call\s+for\s+(?:papers|proposals|talks)"
    r"|(?:is|are)\s+(?:now\s+)?(?:available|live|up)\b|save\s+the\s+date|newsletter|job\s+(?:opening|posting))",
    re.IGNORECASE,
)
# The poster's own news, read in the whole post because a title inside it may carry the "?":
# "I've just posted the first version of "Why LOP? Why Racket?"". Not "I posted my code, why…?".
_OWN_NEWS = re.compile(
    r"\bi(?:'ve|\s+have)?\s+(?:just\s+)?(?:posted|published|released|uploaded|put\s+up)\s+(?:the\s+first|a\s+new|the\s+new"
    r"|my\s+new|version|v?\d|a\s+(?:blog\s+)?post|an?\s+(?:article|paper|video|tutorial|talk|book|essay|write-?up))",
    re.IGNORECASE,
)
_LOGISTICS = re.compile(
    r"\b(?:meetup|meet-up|webinar|conference|workshop|lunch|dinner|drinks|venue|zoom\s+link|calendar\s+invite"
    r"|who(?:'s|\s+is|\s+else\s+is)\s+(?:coming|going|joining|attending|around|here)|what\s+time\s+(?:is|does)"
    r"|(?:when|where)\s+is\s+the\s+(?:meeting|call|event|session)"
    # Questions about the channel itself: where to ask, whether this is the room, who runs it.
    r"|is\s+this\s+the\s+(?:right\s+)?(?:room|channel|place|chat|forum)|where\s+(?:can|should|do)\s+(?:i|we)\s+(?:ask|post|report)"
    r"|any(?:one|body)\s+from\s+(?:the\s+)?[\w.\-]+(?:\s+team)?\s+(?:here|around|online|doing\s+support)"
    r"|any(?:one|body)\s+from\s+(?:the\s+)?[\w.\-]+(?:\s+team)?\s*\?)",
    re.IGNORECASE,
)
_SOCIAL = re.compile(
    r"\b(?:how\s+(?:are|is)\s+(?:you|everyone|everybody|it\s+going)|what'?s\s+up|anyone\s+(?:around|here|awake|online)"
    r"|happy\s+(?:new\s+year|holidays|birthday|friday)|good\s+(?:morning|night)|welcome|congrat\w*|lol|haha)\b",
    re.IGNORECASE,
)
# A poll asks whether anyone uses or does something, not how to solve a problem.
_POLL = re.compile(
    r"^\W*(?:(?:hey|hi|so|also|just\s+curious)\W+)?(?:(?:does|do|is|are|has|have)\s+)?(?:any(?:one|body|1)|some(?:one|body)"
    r"|either\s+of\s+you|any\s+of\s+you)\s+(?:here\s+)?(?:else\s+)?(?:use[sd]?|using|tried|do|doing|run|running"
    r"|interested|work(?:s|ing)?\s+(?:with|on))\b",
    re.IGNORECASE,
)
# A question that points at what someone said earlier needs that conversation to make sense:
# "How does X break <@Julia>'s convention?", "Are the things you mentioned adjusted for…?"
_HIDDEN_CONTEXT = re.compile(
    r"(?:<@[^>]+>|@[\w.\-]+)\s*['’]s\b|\b(?:you|he|she|they)\s+(?:just\s+)?(?:mentioned|said|suggested|described|showed|posted)\b"
    r"|\bas\s+(?:you|he|she|they)\s+said\b",
    re.IGNORECASE,
)
# A question back that proposes a fix is an answer in question form: "have you tried X?",
# "If you reload the extensions, does the colouring correct itself?"
_SUGGESTION = re.compile(
    r"\b(?:have|did)\s+you\s+(?:tried|try)|^\W*if\s+you\b.*\b(?:does|do|is|will)\s+(?:it|that|this|the)\b"
    r"|\bwhat\s+happens\s+if\s+you\b|^\W*(?:though|but|so|also)?\W*maybe\b.*\bshould\b"
    r"|\b(?:how\s+about|why\s+not(?:\s+just)?)\s+(?:use|using|try|trying|add|adding|put|putting)\b",
    re.IGNORECASE,
)
# A question asking someone for a position or a commitment rather than for knowledge: an opinion
# ("do you think", "what are your views"), a promise ("will the government commit to…"), an
# intention ("does the minister intend…", "when will this government…"). The actors are roles
# that answer for an organisation; "you" only with verbs of opinion or intent, so "how do you
# configure X?" (the generic you) is not one.
_ACTOR = (
    r"(?:government|minister|ministry|premier|president|prime\s+minister|administration|cabinet|department"
    r"|council|authority|party|board|management|leadership)"
)
_STANCE = re.compile(
    r"\b(?:do|did)\s+you\s+(?:(?:really|still|honestly)\s+)?(?:think|feel|believe|agree|accept|expect)\b"
    r"|\b(?:would|will|can)\s+you\s+(?:agree|accept|commit|support|confirm|assure|guarantee)\b"
    r"|\bare\s+you\s+(?:satisfied|confident|content|concerned|worried|prepared|willing|planning)\b"
    r"|\b(?:in\s+your\s+(?:view|opinion)|your\s+(?:views?|thoughts|opinions?|position|assessment|reaction))\b"
    rf"|\b(?:will|would|when\s+will|why\s+(?:does|did|will|won'?t|is))\s+(?:the|this|that|our|his|her|their)\s+(?:[\w-]+\s+){{0,2}}{_ACTOR}\b"
    rf"|\b(?:what|how)\s+(?:is|are)\s+(?:the|this|that|our)\s+(?:[\w-]+\s+){{0,2}}{_ACTOR}\s+(?:doing|going)\b"
    rf"|\b{_ACTOR}\s+(?:[\w-]+\s+){{0,2}}(?:commit|intend|plan(?:ning)?\s+to|going\s+to|prepared\s+to|willing\s+to|insist)"
    r"|\b(?:commit|undertake|pledge)\s+(?:today\s+)?to\b|\bassure\s+(?:us|me|the\s+\w+)\s+that\b",
    re.IGNORECASE,
)
# A bare call for help with a topic ("can anyone help me with pwa using angular 2", "need help
# with docker"): it names a subject but no problem, so there is nothing a FAQ could answer.
_HELP_CALL = re.compile(
    r"^\W*(?:(?:hi|hey|hello)\W+)?(?:(?:can|could|would|will)\s+(?:any|some)(?:one|body)(?:\s+here)?\s+(?:please\s+)?help"
    r"|(?:i\s+)?need\s+(?:some\s+)?help|help\s+(?:me\s+)?(?:with|on|please))\b",
    re.IGNORECASE,
)
#: A help call naming at most this many things besides "help" states no problem.
_HELP_CALL_WORDS = 4
_TECHNICAL = re.compile(
    r"`|\b\w+\(\)|\b(?:error|warning|note|fails?|failed|failing|crash\w*|exception|traceback|segfault|compile\w*|install\w*"
    r"|versions?|packages?|functions?|librar(?:y|ies)|build\w*|config\w*|deploy\w*|test\w*|debug\w*)\b|\b\d+\.\d+",
    re.IGNORECASE,
)

#: How much each feature moves the score (score = Σ weight × feature; a FAQ candidate at ≥ 0).
WEIGHTS: dict[str, float] = {
    "bias": -0.2,  # a bare "?" is not enough on its own
    "asks": 0.5,  # a sentence ends with a real "?" or opens like a question
    "specific": 0.5,  # the question names things (content words beyond "any ideas?"), saturating
    "technical": 0.3,  # errors, code, versions, tools: what practice questions are about
    "outage": -1.5,  # "is it just me or X is down?"
    "announcement": -1.0,  # "Beta privileges will change…", "recordings are up"
    "own_news": -1.5,  # "I've just posted the first version of…": news, whatever "?" its title has
    "logistics": -0.8,  # meetups, venues, who is coming
    "social": -0.8,  # "how is everyone?", "happy new year"
    "poll": -1.5,  # "does anyone use X?": asks who, not how
    "hidden_context": -1.5,  # "How does X break @jane's convention?": needs the conversation
    "suggestion": -1.5,  # "have you tried X?": a reply in question form
    "wordless": -1.0,  # "?", "What for?": names nothing, a fragment of a conversation
    "follow_up": -1.0,  # a short or back-referring question inside an ongoing chat exchange
    "leans_back": -1.0,  # a post that only asks about "it"/"this" without saying what
    "stance": -1.5,  # "do you think…?", "will the government commit to…?": a position, not knowledge
    "help_call": -1.0,  # "can anyone help me with pwa using angular 2": a subject, no problem
}

# A question about the other person's own situation ("is your function async?", "do you want
# to attach it to existing structs?", "you're calling it twice?"): asked inside an exchange, it is
# the helper's clarifying question, not a problem of its own. Requests to the channel ("can you
# tell me…", "do you know…") are not of this kind.
_ABOUT_ADDRESSEE = re.compile(
    r"\b(?:is|are|was|were|does|did|has|have)\s+(?:your|you)\b(?!\s+(?:know|tried))"
    r"|\b(?:do|did)\s+you\s+(?:want|mean|need|have|use|see|get|run|call|expect)\b"
    r"|\byou(?:'re|\s+are|'ve|\s+have)\b|\byour\s+\w+\s+(?:is|are|was|does)\b",
    re.IGNORECASE,
)

#: A question naming at most this many things, asked inside an exchange, is a clarification.
_FOLLOW_UP_WORDS = 3


def _share(pattern: re.Pattern[str], asking: list[str], post: str) -> float:
    """How much of what the post asks matches `pattern`: 1 when every specific asking sentence
    does (or, when none is specific, the post does), else the share of those that do: "Is R-Forge
    dead? … does anyone have advice on hosting several packages in one git repository?" is half
    an outage ping, "Does anyone use X? Why does X recompile every file?" half a poll."""
    specific = [s for s in asking if not is_generic_question(s)]  # "Anyone know?" asks nothing
    if not specific:
        return 1.0 if pattern.search(post) else 0.0
    return sum(1 for s in specific if pattern.search(s)) / len(specific)


@dataclass
class Worthiness:
    """The decision: score, whether it makes a FAQ candidate, and the features behind it."""

    score: float
    keep: bool
    features: dict[str, float] = field(default_factory=dict)


def _follow_up(asking: list[str], question: str, exchange: str) -> float:
    """1 when a question asked inside an exchange is a clarification or follow-up rather than
    a new problem: addressed to someone ("@jane does that work?"), short ("probably not ?",
    "Do you mean `syntax`?"), a remark without a "?" ("I will share how to do it anyway"),
    about the other person's own situation ("is your function an async function?") or
    leaning on what was said before ("is that only for Xcode 8?")."""
    if exchange == "addressed" or len(content_words(question)) <= _FOLLOW_UP_WORDS:
        return 1.0
    if not asking and not question.strip().endswith("?"):
        return 1.0  # a "how to" inside a reply is rarely a question of its own
    if asking and all(_ABOUT_ADDRESSEE.search(s) for s in asking):
        return 1.0  # it asks the other person about their own code or plan
    return 1.0 if asking and all(needs_antecedent(s) for s in asking) else 0.0


def faq_worthiness(question: str, post: str, in_exchange: str | None = None) -> Worthiness:
    """Score whether a thread whose opening `post` asks `question` is a FAQ candidate.
    `in_exchange`: how the post continues a chat exchange, "addressed" or "follows" (see
    `extractors.chat_links`); None when it opens one."""
    sentences = split_sentences(post)
    asking = [s for s in sentences if has_question_mark(s)]
    # An announcement states: its cue sits in a statement ("Beta privileges will change…"),
    # while "Is the new release compatible with R 4.4?" asks about one.
    statements = " ".join(s for s in sentences if s not in asking)
    specific_words = content_words(question)
    generic = bool(asking) and all(is_generic_question(s) for s in asking) and len(specific_words) < 3
    features = {
        "bias": 1.0,
        "asks": 1.0 if asking or question.strip().endswith("?") else 0.5,
        "specific": 0.0 if generic else min(1.0, len(specific_words) / 6),
        "technical": 1.0 if _TECHNICAL.search(post) else 0.0,
        "outage": _share(_OUTAGE, asking, post),
        "announcement": 1.0 if _ANNOUNCEMENT.search(statements) else 0.0,
        "own_news": 1.0 if _OWN_NEWS.search(post) else 0.0,
        "logistics": 1.0 if _LOGISTICS.search(post) else 0.0,
        "social": 1.0 if _SOCIAL.search(question) and len(specific_words) < 5 else 0.0,
        "poll": _share(_POLL, asking, question),
        "hidden_context": 1.0 if _HIDDEN_CONTEXT.search(question) else 0.0,
        "suggestion": 1.0 if asking and all(_SUGGESTION.search(s) for s in asking) else 0.0,
        "wordless": 0.0 if specific_words else 1.0,  # the stored question names nothing ("which one?")
        "follow_up": _follow_up(asking, question, in_exchange) if in_exchange else 0.0,
        "leans_back": 1.0 if asking and len(asking) == len(sentences) and all(needs_antecedent(s) for s in asking) else 0.0,
        "stance": _share(_STANCE, asking, question),
        "help_call": 1.0 if _HELP_CALL.search(question) and len(specific_words) <= _HELP_CALL_WORDS else 0.0,
    }
    score = round(sum(WEIGHTS[k] * v for k, v in features.items()), 3)
    return Worthiness(score=score, keep=score >= 0, features=features)
