"""The offline document extractor: FAQ sections, checklists, recommendation sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.base import Extractor, unverified_quotes
from extractors.documents import DocumentExtractor, clean_heading, recommendation_strength
from pipeline.models import CandidateKind, Passage, PassageDraft, PassageKind, Source, SourceKind
from pipeline.text import sentence_spans


def _doc(elements: list[tuple[str, str, list[str]]]) -> tuple[Source, list[Passage]]:
    source = Source(id="doc", kind=SourceKind.document, uri="/docs/handbook.md", content_hash="h")
    passages = [
        Passage.from_draft(
            PassageDraft(kind=PassageKind.element, element_type=etype, text=text, section_path=path), "doc", i
        )
        for i, (etype, text, path) in enumerate(elements)
    ]
    return source, passages


def _run(elements):
    source, passages = _doc(elements)
    result = DocumentExtractor().run(source, passages)
    by_id = {p.id: p for p in passages}
    for c in result.candidates:
        assert unverified_quotes(c, by_id) == [], c
    return result.candidates, by_id


H = ["Handbook"]
ELEMENTS = [
    ("Title", "Handbook", []),
    ("NarrativeText", "This handbook collects what the guild agreed on.", H),
    ("Title", "CI pipelines", H),
    ("NarrativeText", "Slow pipelines waste everyone's time every day. Always pin runner images to an exact version. "
     "Keep the pull request pipeline under ten minutes.", H + ["CI pipelines"]),
    ("CodeSnippet", "Always run make ci before you push.", H + ["CI pipelines"]),
    ("Title", "Checklist: production readiness", H),
    ("ListItem", "[ ] The service has an owner team.", H + ["Checklist: production readiness"]),
    ("ListItem", "[x] A rollback has been rehearsed in staging.", H + ["Checklist: production readiness"]),
    ("NarrativeText", "Make sure the checklist is reviewed by SRE.", H + ["Checklist: production readiness"]),
    ("Title", "See also", H),
    ("ListItem", "Writing Good CL Descriptions", H + ["See also"]),
    ("ListItem", "How to Handle Reviewer Comments", H + ["See also"]),
    ("Title", "FAQ", H),
    ("Title", "How do we deal with flaky tests? {#flaky}", H + ["FAQ"]),
    ("NarrativeText", "Quarantine them. A quarantined test still runs but no longer blocks merges.",
     H + ["FAQ", "How do we deal with flaky tests? {#flaky}"]),
    ("Title", "Terraform", H),
    ("NarrativeText", "Terraform state is shared by many teams and gets overwritten easily.", H + ["Terraform"]),
    ("Title", "Questions", H),
    ("NarrativeText", "Can I swap my on-call week?", H + ["Questions"]),
    ("NarrativeText", "Yes. Agree the swap and update the pager schedule yourself.", H + ["Questions"]),
]


def test_protocol() -> None:
    ex = DocumentExtractor()
    assert isinstance(ex, Extractor)
    assert (ex.name, ex.version, ex.source_kinds) == ("documents", "4", frozenset({SourceKind.document}))


def test_exact_candidates() -> None:
    cands, by_id = _run(ELEMENTS)
    faqs = [c for c in cands if c.kind == CandidateKind.faq]
    patterns = [c for c in cands if c.kind == CandidateKind.pattern]

    assert [f.question for f in faqs] == ["How do we deal with flaky tests?", "Can I swap my on-call week?"]
    assert faqs[0].answer == "Quarantine them. A quarantined test still runs but no longer blocks merges."
    assert [e.role for e in faqs[0].evidence] == ["question", "answer"]
    assert faqs[0].evidence[0].quote == "How do we deal with flaky tests? {#flaky}"
    assert faqs[1].answer == "Yes. Agree the swap and update the pager schedule yourself."

    # a short topic heading is followed by the practice it holds
    assert [p.name for p in patterns] == [
        "CI pipelines: Always pin runner images to an exact version",
        "Checklist: production readiness",
    ]
    ci, checklist = patterns
    assert ci.context == "Handbook > CI pipelines"
    assert ci.problem == "Slow pipelines waste everyone's time every day."
    assert ci.recommendation == (
        "Always pin runner images to an exact version. Keep the pull request pipeline under ten minutes."
    )
    assert [e.role for e in ci.evidence] == ["recommendation", "recommendation", "context"]
    assert [e.quote for e in ci.evidence[:2]] == [
        "Always pin runner images to an exact version.",
        "Keep the pull request pipeline under ten minutes.",
    ]
    # checklist items and the recommendation of the same section are ONE pattern
    assert checklist.items == ["The service has an owner team.", "A rollback has been rehearsed in staging."]
    assert checklist.recommendation == "Make sure the checklist is reviewed by SRE."
    assert [e.role for e in checklist.evidence] == ["item", "item", "recommendation"]
    assert checklist.evidence[0].quote == "[ ] The service has an owner team."  # the quote keeps the marker
    assert checklist.confidence > ci.confidence
    for c in cands:
        assert 0.0 <= c.confidence <= 1.0
        assert (c.extractor, c.extractor_version) == ("documents", "4")


def test_noise_is_skipped() -> None:
    cands, _ = _run(ELEMENTS)
    quotes = [e.quote for c in cands for e in c.evidence]
    assert not any("make ci" in q for q in quotes)  # code block
    assert not any("Writing Good CL Descriptions" in q for q in quotes)  # navigation list
    assert not any(c.name == "Terraform" for c in cands)  # no advice in that section


def test_standalone_questions_outside_faq_sections_are_not_faqs() -> None:
    cands, _ = _run([
        ("Title", "Design", []),
        ("NarrativeText", "Do the pieces of this change make sense together?", ["Design"]),
        ("NarrativeText", "The most important thing to cover in a review is the overall design.", ["Design"]),
    ])  # fmt: skip
    assert cands == []


def test_pdf_style_numbered_headings_and_glued_checklist() -> None:
    cands, _ = _run([
        ("ListItem", "6. Postmortem checklist [ ] Summary in three sentences.", []),
        ("NarrativeText", "[ ] Impact quantified: duration and customers.", []),
        ("Title", "Guide - page 1 of 2", []),
        ("NarrativeText", "[ ] Reviewed by someone outside the team.", []),
    ])  # fmt: skip
    (pattern,) = cands
    assert pattern.name == "Postmortem checklist"
    assert pattern.items == [
        "Summary in three sentences.", "Impact quantified: duration and customers.", "Reviewed by someone outside the team.",
    ]  # fmt: skip


def test_helpers() -> None:
    text = 'Use e.g. pytest. Never sleep in tests!  Poll instead? "Yes."'
    assert [text[s:e] for s, e in sentence_spans(text)] == ["Use e.g. pytest.", "Never sleep in tests!", "Poll instead?", '"Yes."']
    assert clean_heading("3. Splitting CLs {#splitting}") == "Splitting CLs"
    assert recommendation_strength("Never respond in anger to code review comments.") == 1.0
    assert recommendation_strength("Either way, encourage the author to file a bug.") == 1.0
    assert recommendation_strength("Tests should be added in the same CL.") == 0.5
    assert recommendation_strength("The CL description becomes a permanent record.") == 0.0
    assert recommendation_strength("Bad: \"Why did you use threads here?\"") == 0.0


# ---------------------------------------------------------------------------------------------
# patterns that are practices (issue 10, item 6)


def _patterns(elements) -> list:
    cands, _ = _run(elements)
    return [c for c in cands if c.kind == CandidateKind.pattern]


def test_conditional_should_is_not_advice() -> None:
    path = ["Laptops", "Lost devices"]
    patterns = _patterns([
        ("Title", "Laptops", []),
        ("Title", "Lost devices", ["Laptops"]),
        ("NarrativeText", "Organisations can remotely wipe devices should they be lost. "
         "The service desk must be told first if a device should be stolen.", path),
    ])  # fmt: skip
    assert patterns == []
    # the same section with advice in its main clause is a practice
    (pattern,) = _patterns([
        ("Title", "Laptops", []),
        ("Title", "Lost devices", ["Laptops"]),
        ("NarrativeText", "If a device is lost, you must report it to the service desk within an hour.", path),
    ])  # fmt: skip
    assert pattern.recommendation == "If a device is lost, you must report it to the service desk within an hour."


def test_template_instructions_are_not_advice() -> None:
    path = ["Incident report", "Open questions"]
    patterns = _patterns([
        ("Title", "Incident report", []),
        ("Title", "Open questions", ["Incident report"]),
        ("NarrativeText", "List any open questions here.", path),
        ("NarrativeText", "Replace this text with a summary of the follow-up actions.", path),
    ])  # fmt: skip
    assert patterns == []


def test_patterns_are_named_for_the_practice_not_a_generic_heading() -> None:
    patterns = _patterns([
        ("Title", "Onboarding week", []),
        ("Title", "Day 3", ["Onboarding week"]),
        ("NarrativeText", "Always pair a newcomer with a buddy for their first on-call shift.", ["Onboarding week", "Day 3"]),
        ("Title", "Goals", ["Onboarding week"]),
        ("NarrativeText", "Keep the first pull request smaller than fifty lines.", ["Onboarding week", "Goals"]),
        ("Title", "Buddy system", ["Onboarding week"]),
        ("NarrativeText", "Never leave a newcomer alone on an incident call.", ["Onboarding week", "Buddy system"]),
    ])  # fmt: skip
    assert [p.name for p in patterns] == [
        "Always pair a newcomer with a buddy for their…",
        "Keep the first pull request smaller than fifty lines",
        "Buddy system: Never leave a newcomer alone on an incident call",
    ]
    assert patterns[0].context == "Onboarding week > Day 3"  # where it came from is still shown


def test_a_sentence_that_introduces_a_list_keeps_it() -> None:
    path = ["Laptop setup"]
    (pattern,) = _patterns([
        ("Title", "Laptop setup", []),
        ("NarrativeText", "Avoid installing the following tools:", path),
        ("ListItem", "Docker Desktop", path),
        ("ListItem", "Homebrew cask versions of Python", path),
        ("NarrativeText", "The build image already has them.", path),
    ])  # fmt: skip
    assert pattern.recommendation == "Avoid installing the following tools:\n- Docker Desktop\n- Homebrew cask versions of Python"
    assert [(e.role, e.quote) for e in pattern.evidence] == [
        ("recommendation", "Avoid installing the following tools:"),
        ("item", "Docker Desktop"),
        ("item", "Homebrew cask versions of Python"),
    ]
    assert pattern.evidence[0].score is not None and pattern.evidence[0].score >= 1.0  # the advice score, inspectable


def test_navigation_sections_are_not_patterns() -> None:
    path = ["CI", "Further reading"]
    patterns = _patterns([
        ("Title", "CI", []),
        ("Title", "Further reading", ["CI"]),
        ("NarrativeText", "Read the GDS guide to continuous delivery before you start.", path),
        ("NarrativeText", "Find out more about pipelines on the Service Manual page.", path),
    ])  # fmt: skip
    assert patterns == []


def test_minutes_decisions_and_actions_are_patterns() -> None:
    path = ["Guild sync 2024-06-04"]
    patterns = _patterns([
        ("Title", "Guild sync 2024-06-04", []),
        ("NarrativeText", "Marco opened the meeting and we talked about the weather.", path),
        ("NarrativeText", "RESOLVED: all services pin their runner images to a digest.", path),
        ("NarrativeText", "ACTION: Kenji to write the migration guide by Friday.", path),
        ("Title", "Decisions", path),
        ("ListItem", "Flaky tests are quarantined within one day.", path + ["Decisions"]),
    ])  # fmt: skip
    got = [(p.context.split(" · ")[0], p.name) for p in patterns]
    assert got == [
        ("decision", "All services pin their runner images to a digest"),
        ("action", "Kenji to write the migration guide by Friday"),
        ("decision", "Flaky tests are quarantined within one day"),
    ]
    assert patterns[0].evidence[0].quote == "RESOLVED: all services pin their runner images to a digest."
    assert patterns[0].context == "decision · Guild sync 2024-06-04"


def test_a_code_comment_is_not_a_heading(tmp_path: Path) -> None:
    md = tmp_path / "setup.md"
    md.write_text(
        "# Setup guide\n\n"
        "## Install\n\n"
        "> ```\n> # Always pin versions\n> pip install -r requirements.txt\n> ```\n\n"
        "* Configure the proxy:\n\n"
        "    ```sh\n    # configure the proxy\n    export HTTPS_PROXY=http://proxy:3128\n    ```\n\n"
        "## Secrets\n\n"
        "Never commit a token to the repository.\n"
    )
    source, passages = _parse(md, "md")
    assert [p.text for p in passages if p.element_type == "Title"] == ["Setup guide", "Install", "Secrets"]
    patterns = [c for c in DocumentExtractor().run(source, passages).candidates if c.kind == CandidateKind.pattern]
    assert [(p.name, p.context) for p in patterns] == [("Secrets: Never commit a token to the repository", "Setup guide > Secrets")]


def test_a_code_fence_the_parser_missed_gives_no_heading() -> None:
    # what the parser yields for a fence it does not recognise: the fence lines as text and
    # the comment as a Title that re-roots the sections after it
    patterns = _patterns([
        ("Title", "Guide", []),
        ("Title", "Install", ["Guide"]),
        ("UncategorizedText", "```", ["Guide", "Install"]),
        ("Title", "Always pin versions", []),
        ("UncategorizedText", "pip install -r requirements.txt ```", ["Always pin versions"]),
        ("Title", "Secrets", ["Always pin versions"]),
        ("NarrativeText", "Never commit a token to the repository.", ["Always pin versions", "Secrets"]),
    ])  # fmt: skip
    assert [(p.name, p.context) for p in patterns] == [("Secrets: Never commit a token to the repository", "Secrets")]


# ---------------------------------------------------------------------------------------------
# real documents


def _parse(path: Path, source_id: str) -> tuple[Source, list[Passage]]:
    from pipeline.sources import detect
    from pipeline.sources.base import FileBundle, ParseOptions

    bundle = FileBundle(path)
    parsed = detect(bundle).parse(bundle, ParseOptions())
    source = Source(id=source_id, kind=SourceKind.document, uri=str(path), content_hash="h")
    return source, [Passage.from_draft(d, source_id, i) for i, d in enumerate(parsed.passages)]


@pytest.mark.integration
def test_google_code_review_guide(corpus: Path) -> None:
    files = sorted((corpus / "docs/google_eng_practices/review").rglob("*.md"))
    assert files
    patterns, faqs = [], []
    for k, path in enumerate(files):
        source, passages = _parse(path, f"g{k}")
        by_id = {p.id: p for p in passages}
        for c in DocumentExtractor().run(source, passages).candidates:
            assert unverified_quotes(c, by_id) == [], c
            (patterns if c.kind == CandidateKind.pattern else faqs).append(c)
    assert 25 <= len(patterns) <= 80  # many, but not one per paragraph
    names = {p.name for p in patterns}
    assert {"Resolving Conflicts", "The Standard of Code Review: Principles"} <= names
    # one-word topics are followed by the practice they hold, a heading that says it stays alone
    assert {
        "Tests: Ask for unit, integration, or end-to-end tests as appropriate for the change",
        "Documentation: Consider whether the documentation should also be deleted",
        "Label comment severity",
    } <= names
    for p in patterns:  # names are headings, not sentences
        assert "{#" not in p.name and len(p.name.split()) <= 14 and not p.name.endswith(".")
    assert {"Why Write Small CLs?", "What Is An Emergency?"} <= {f.question for f in faqs}


@pytest.mark.integration
def test_demo_documents() -> None:
    docs = Path(__file__).resolve().parents[2] / "examples" / "docs"
    source, passages = _parse(docs / "platform-handbook.md", "md")
    cands = DocumentExtractor().run(source, passages).candidates
    questions = {c.question for c in cands if c.kind == CandidateKind.faq}
    headings = {p.text for p in passages if p.element_type == "Title" and p.text.endswith("?")}
    assert len(headings) >= 5 and headings <= questions  # every ### question is a FAQ
    readiness = next(c for c in cands if c.name == "Checklist: production readiness")
    assert len(readiness.items) >= 8 and not any(i.startswith("[") for i in readiness.items)

    source, passages = _parse(docs / "oncall-handover.docx", "docx")
    by_id = {p.id: p for p in passages}
    cands = DocumentExtractor().run(source, passages).candidates
    for c in cands:
        assert unverified_quotes(c, by_id) == []
    outgoing = next(c for c in cands if c.name == "Checklist: outgoing on-call")
    assert len(outgoing.items) == 7 and {e.role for e in outgoing.evidence} == {"item"}
    assert "Can I swap my on-call week?" in {c.question for c in cands}


def test_advice_that_leans_on_the_sentence_before_keeps_it() -> None:
    """"However, …" / "For example, …" / "This should be done when…" qualify the rule before
    them: the recommendation carries that rule instead of leaving it in the problem field."""
    path = ["Performance testing", "Inform people"]
    (pattern,) = _patterns([
        ("Title", "Performance testing", []),
        ("Title", "Inform people", ["Performance testing"]),
        ("NarrativeText", "Tell the teams that own downstream services before a load test starts. "
         "For example, you should post in their channel a day ahead with the expected traffic.", path),
    ])  # fmt: skip
    assert pattern.recommendation == (
        "Tell the teams that own downstream services before a load test starts. "
        "For example, you should post in their channel a day ahead with the expected traffic."
    )
    assert pattern.problem is None
    # across paragraphs: the statement before becomes a recommendation of its own
    path = ["Code review", "Approval with comments"]
    (pattern,) = _patterns([
        ("Title", "Code review", []),
        ("Title", "Approval with comments", ["Code review"]),
        ("NarrativeText", "A reviewer can approve a change while leaving comments that are not yet resolved.", path),
        ("NarrativeText", "However, you must never approve a change whose tests are failing.", path),
    ])  # fmt: skip
    assert pattern.recommendation is not None
    assert pattern.recommendation.startswith("A reviewer can approve a change while leaving comments")
    assert pattern.problem is None
