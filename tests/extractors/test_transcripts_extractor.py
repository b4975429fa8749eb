"""The offline transcript extractor: answered questions, open questions, decisions and lessons."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.base import Extractor, unverified_quotes
from extractors.transcripts import TranscriptExtractor, clean_speech, format_time
from pipeline.models import CandidateKind, Passage, PassageDraft, PassageKind, Source, SourceKind


def _meeting(turns: list[tuple[str, str]], thread: str | None = None, timed: bool = True) -> list[PassageDraft]:
    return [
        PassageDraft(
            kind=PassageKind.turn, author=speaker, text=text, thread_id=thread,
            start=10.0 * i if timed else None, end=10.0 * i + 9 if timed else None,
            extra={} if timed else {"turn": i},
        )
        for i, (speaker, text) in enumerate(turns)
    ]  # fmt: skip


def _run(drafts: list[PassageDraft], uri: str = "/meetings/guild-sync.vtt"):
    source = Source(id="t", kind=SourceKind.transcript, uri=uri, content_hash="h")
    passages = [Passage.from_draft(d, "t", i) for i, d in enumerate(drafts)]
    result = TranscriptExtractor().run(source, passages)
    by_id = {p.id: p for p in passages}
    for c in result.candidates:
        assert unverified_quotes(c, by_id) == [], c
    return result.candidates, by_id


SYNC = [
    ("Priya", "Okay, let's get going. Can everyone see my screen?"),  # logistics
    ("Marco", "Yes, looks fine."),
    ("Tomás", "Quick one. What about a brand-new service where you have no usage data yet?"),
    ("Ravi", "Start generous, run a load test, and right-size after the first week in production."),
    ("Ravi", "The sizing dashboard shows requested versus actual per container."),
    ("Lena", "It's the timing thing again, right?"),  # a tag question
    ("Kenji", "Partly. There's also test ordering, two tests share the same index name."),
    ("Priya", "Okay, we decided: locking is mandatory for every shared Terraform state. I'll put it in the handbook."),
    ("Marco", "One more open question: does anyone know how to get CI minutes broken down per team?"),
    ("Priya", "No idea, honestly. I'll note it as open."),
    ("Aisha", "What worked for us: silent writing first, then a round-robin. Everyone talks through their own notes in turn."),
    ("Felix", "Um. I doubled it."),
    ("Aisha", "Never sleep a fixed amount in an integration test. Poll with a timeout."),
]


def test_protocol() -> None:
    ex = TranscriptExtractor()
    assert isinstance(ex, Extractor)
    assert (ex.name, ex.version, ex.source_kinds) == ("transcripts", "3", frozenset({SourceKind.transcript}))


def test_exact_candidates() -> None:
    cands, by_id = _run(_meeting(SYNC))
    faqs = [c for c in cands if c.kind == CandidateKind.faq]
    patterns = [c for c in cands if c.kind == CandidateKind.pattern]

    answered, open_q = faqs
    assert answered.question == "What about a brand-new service where you have no usage data yet?"
    assert answered.answer == (
        "Start generous, run a load test, and right-size after the first week in production. "
        "The sizing dashboard shows requested versus actual per container."
    )
    assert [e.role for e in answered.evidence] == ["question", "answer", "answer"]
    assert answered.evidence[0].quote == "What about a brand-new service where you have no usage data yet?"
    assert [by_id[e.passage_id].author for e in answered.evidence] == ["Tomás", "Ravi", "Ravi"]
    assert answered.context == "guild-sync 00:00:20–00:00:49"

    assert open_q.question == "One more open question: does anyone know how to get CI minutes broken down per team?"
    assert open_q.answer is None and open_q.is_open_question
    assert open_q.confidence < answered.confidence

    assert [(p.context.split(" · ")[0], p.name) for p in patterns] == [
        ("decision", "Locking is mandatory for every shared Terraform state"),
        ("lesson", "Silent writing first, then a round-robin"),
        ("recommendation", "Never sleep a fixed amount in an integration test"),
    ]
    decision, lesson, rec = patterns
    assert decision.context == "decision · guild-sync 00:01:10–00:01:19"
    assert decision.evidence[0].quote == "Okay, we decided: locking is mandatory for every shared Terraform state."
    assert decision.evidence[0].role == "recommendation"
    # a lesson keeps the sentences that carry on from its announcement
    assert lesson.evidence[0].quote == (
        "What worked for us: silent writing first, then a round-robin. Everyone talks through their own notes in turn."
    )
    assert rec.recommendation == "Never sleep a fixed amount in an integration test."
    for c in cands:
        assert 0.0 <= c.confidence <= 1.0 and c.extractor == "transcripts"


def test_no_candidates_from_logistics_tags_or_self_answers() -> None:
    cands, _ = _run(_meeting([
        ("A", "Can you all hear me okay, is the audio working?"),
        ("B", "Yes, we can hear you fine, the audio is perfectly clear on our side."),
        ("A", "Kenji, could you set up the quarantine list for the indexer suite?"),
        ("B", "Yes. And I'll fix the shared index names, that one's easy enough to do."),
        ("A", "How do we size memory requests for the new batch workers? Let me answer that myself."),
        ("A", "We take two weeks of metrics and set the request near the p95 of usage."),
    ]))  # fmt: skip
    assert cands == []


def test_qmsum_noise_and_meetings_kept_apart() -> None:
    drafts = _meeting([
        ("Project Manager", "Um {vocalsound} so how do we uh make the remote easy to use for elderly people ?"),
        ("Marketing", "Well , I think we use uh big buttons and a simple menu with only the basic functions ."),
        ("Industrial Designer", "Why does the the price and {disfmarker} and the s oh , one exa"),
        ("User Interface", "The price is twelve and a half euros , that is what the brief says ."),
    ], thread="meeting-1", timed=False) + _meeting([
        ("Chair", "What is the timetable for the consultation on the new curriculum ?"),
    ], thread="meeting-2", timed=False)  # fmt: skip
    cands, by_id = _run(drafts, uri="/qmsum/test.jsonl")
    (faq,) = cands
    assert faq.question == "So how do we make the remote easy to use for elderly people?"
    assert faq.answer == "Well, I think we use big buttons and a simple menu with only the basic functions."
    assert faq.evidence[0].quote == "Um {vocalsound} so how do we uh make the remote easy to use for elderly people ?"
    assert faq.context == "meeting-1 turns 0–1"


def test_minutes_resolved_and_action_lines_are_patterns() -> None:
    cands, by_id = _run(_meeting([
        ("Priya", "Okay, the runner images. Anyone against pinning them to a digest?"),
        ("Marco", "No, let's do it."),
        ("RESOLVED", "All services pin their runner images to a digest."),
        ("Priya", "Good. I'll take the handbook. ACTION: Kenji to write the migration guide by Friday."),
        ("Lena", "Action item for Aisha: send the quarantine list to the guild channel."),
        ("Marco", "How was everyone's weekend, by the way?"),
        ("Lena", "Great, we went hiking. Make sure to turn your microphone on, Felix."),
    ], timed=False))  # fmt: skip
    patterns = [c for c in cands if c.kind == CandidateKind.pattern]
    assert [(p.context.split(" · ")[0], p.name) for p in patterns] == [
        ("decision", "All services pin their runner images to a digest"),
        ("action", "Kenji to write the migration guide by Friday"),
        ("action", "Send the quarantine list to the guild channel"),
    ]
    assert patterns[0].recommendation == "All services pin their runner images to a digest."
    assert patterns[1].evidence[0].quote == "ACTION: Kenji to write the migration guide by Friday."
    assert by_id[patterns[2].evidence[0].passage_id].author == "Lena"


def test_conditional_opinion_and_proposal_are_not_recommendations() -> None:
    cands, _ = _run(_meeting([
        ("A", "Whether you should always rebase first is something each team decides for itself."),
        ("B", "I think you should always go for a more modern look on the remote control."),
        ("C", "We will continue to work closely with industry, so we make sure we stand by them."),
        ("D", "Never sleep a fixed amount in an integration test, poll with a timeout instead."),
    ]))  # fmt: skip
    assert [c.recommendation for c in cands] == ["Never sleep a fixed amount in an integration test, poll with a timeout instead."]


def test_helpers() -> None:
    assert clean_speech("Um {vocalsound} we uh decided , okay .") == "We decided, okay."
    assert format_time(3723.4) == "01:02:03"


# ---------------------------------------------------------------------------------------------
# real transcripts


def _parse(path: Path, source_id: str) -> tuple[Source, list[Passage]]:
    from pipeline.sources import detect
    from pipeline.sources.base import FileBundle, ParseOptions

    bundle = FileBundle(path)
    parsed = detect(bundle).parse(bundle, ParseOptions())
    source = Source(id=source_id, kind=SourceKind.transcript, uri=str(path), content_hash="h")
    return source, [Passage.from_draft(d, source_id, i) for i, d in enumerate(parsed.passages)]


@pytest.mark.integration
def test_qmsum_first_meeting_and_zoom(corpus: Path) -> None:
    source, passages = _parse(corpus / "meetings/qmsum/test.jsonl", "q")
    first = [p for p in passages if p.thread_id == "meeting-1"]
    by_id = {p.id: p for p in first}
    cands = TranscriptExtractor().run(source, first).candidates
    faqs = [c for c in cands if c.kind == CandidateKind.faq and c.answer]
    assert 5 <= len(faqs) <= 30
    for c in cands:
        assert unverified_quotes(c, by_id) == []
        if c.kind == CandidateKind.faq and c.answer:  # asked and answered by different people
            roles = {e.role: by_id[e.passage_id].author for e in c.evidence}
            assert roles["question"] != roles["answer"]

    source, passages = _parse(corpus / "meetings/zoom_vtt/meeting001_transcript.vtt", "z")
    by_id = {p.id: p for p in passages}
    cands = TranscriptExtractor().run(source, passages).candidates
    for c in cands:
        assert unverified_quotes(c, by_id) == []
    assert any(c.kind == CandidateKind.faq and c.answer for c in cands)
    # a webinar talk: its only "we decided" is a story about a study (00:49:12), no meeting decision
    assert not any(c.kind == CandidateKind.pattern and c.context.startswith("decision") for c in cands)


@pytest.mark.integration
def test_demo_meetings() -> None:
    meetings = Path(__file__).resolve().parents[2] / "examples" / "meetings"
    source, passages = _parse(meetings / "platform-guild-sync-2026-10-02.txt", "g")
    by_id = {p.id: p for p in passages}
    cands = TranscriptExtractor().run(source, passages).candidates
    for c in cands:
        assert unverified_quotes(c, by_id) == []
    decisions = [c for c in cands if c.kind == CandidateKind.pattern and c.context.startswith("decision")]
    assert any("locking mandatory" in c.recommendation for c in decisions)
    open_questions = {c.question for c in cands if c.is_open_question}
    assert any("CI minutes" in q for q in open_questions)
    answered = {c.question: c for c in cands if c.kind == CandidateKind.faq and c.answer}
    assert "What if an incident is still open at handover time?" in answered


def test_plain_text_minutes_through_the_parser(tmp_path: Path) -> None:
    # the text parser reads "RESOLVED:" as a speaker and appends "ACTION:" (a label) to the turn before
    minutes = tmp_path / "guild-sync.txt"
    minutes.write_text(
        "Priya: Okay, the runner images. Anyone against pinning them to a digest?\n"
        "Marco: No, let's do it.\n"
        "RESOLVED: All services pin their runner images to a digest.\n"
        "Priya: Good. I'll take the handbook.\n"
        "ACTION: Kenji to write the migration guide by Friday.\n"
        "Marco: How was everyone's weekend?\n"
        "Lena: Great, we went hiking.\n"
    )
    source, passages = _parse(minutes, "m")
    patterns = [c for c in TranscriptExtractor().run(source, passages).candidates if c.kind == CandidateKind.pattern]
    assert [(p.context, p.name) for p in patterns] == [
        ("decision · guild-sync turn 2", "All services pin their runner images to a digest"),
        ("action · guild-sync turn 3", "Kenji to write the migration guide by Friday"),
    ]


def test_stance_questions_are_not_faqs_but_knowledge_questions_are() -> None:
    """A question asking someone for an opinion or a commitment is debate, not a FAQ; a question
    about how things work, in the same meeting, still is."""
    drafts = _meeting([
        ("Chair", "Do you think the current funding arrangements for the support teams are satisfactory?"),
        ("Witness", "I think it is a difficult balance, and most of us would like more money for the support side."),
        ("Member", "Will the council commit to publishing the waiting times for every school next year?"),
        ("Witness", "We will certainly look at that and report back to the committee in the autumn session."),
        ("Member", "How do schools record the hours of tuition a pupil receives outside the classroom?"),
        ("Witness", "Each school logs them in the attendance system under a separate code, reviewed every term."),
    ])  # fmt: skip
    cands, _ = _run(drafts)
    questions = [c.question for c in cands if c.kind == CandidateKind.faq]
    assert questions == ["How do schools record the hours of tuition a pupil receives outside the classroom?"]


def test_formal_debate_yields_no_faqs_but_keeps_its_decisions() -> None:
    """Answers put through the chair mark a parliament's question period: its questions are
    political and its answers positions. Decisions said in it stay patterns."""
    drafts = _meeting([
        ("Member A", "How many applications for the housing benefit were processed in the last quarter?"),
        ("Minister", "Mr. Chair, we processed more applications than ever before and will continue to help families."),
        ("Member B", "How long does an applicant wait for the first payment once the form is accepted?"),
        ("Minister", "Madam Chair, our priority has always been to get money to families as fast as possible."),
        ("Member C", "Why are the rural offices closing before the new online service is ready for older people?"),
        ("Minister", "Mr. Speaker, we are investing in rural services and the online service is ready today."),
        ("Chair", "Okay, we decided: the committee will publish its report on housing benefit delays in March."),
    ])  # fmt: skip
    cands, _ = _run(drafts)
    assert [c for c in cands if c.kind == CandidateKind.faq] == []
    assert any(c.kind == CandidateKind.pattern and "publish its report" in (c.recommendation or "") for c in cands)
