"""Advice as a scored, inspectable decision; names for the practice; scribe marks."""

from __future__ import annotations

import pytest

from extractors.advice import is_scribe_label, said_decision, score_advice, scribe_mark
from extractors.naming import heading_kind, practice_name, topic_and_practice


@pytest.mark.parametrize(
    ("sentence", "strength", "feature"),
    [
        ("Always pin runner images to an exact version.", 1.0, "imperative"),
        ("Unless you have a valid use case, do not use assets hosted by a third party.", 1.0, "imperative_after_clause"),
        ("Tests should be added in the same change as the code.", 0.5, "modal"),
        ("If a device is lost, you should report it to the service desk.", 0.5, "modal"),
        ("Organisations can remotely wipe devices should they be lost.", 0.0, "modal_in_condition"),
        ("Tell us if you should need more access.", 1.0, "imperative"),
        ("The Service Manual describes how you should design your service.", 0.0, "modal_embedded"),
        ("This should make it easy to audit access.", 0.0, "modal_epistemic"),
        ("List any open questions here.", 0.0, "template_instruction"),
        ("Replace this text with a summary of the incident.", 0.0, "template_instruction"),
        ("Contributors must disclose any essential claims under the patent policy.", 0.0, "boilerplate"),
        ("A flaky test is a test that should pass but sometimes fails.", 0.0, "definition"),
        ("Find out more about pull requests on the Pull requests page.", 0.0, "navigation"),
        ("Should we keep the pipeline under ten minutes?", 0.0, "question"),
    ],
)
def test_score_advice_names_its_features(sentence: str, strength: float, feature: str) -> None:
    advice = score_advice(sentence)
    assert advice.strength == strength
    assert feature in advice.features


def test_scribe_marks() -> None:
    assert scribe_mark("RESOLVED: pin images") == ("decision", len("RESOLVED: "))
    assert scribe_mark("**Action item:** Kenji to write it")[0] == "action"
    assert scribe_mark("ACTION (Ann): update the wiki")[0] == "action"
    assert scribe_mark("Decision: what the team has decided to do") is None  # a template's field
    assert scribe_mark("Resolved the flaky test by pinning the seed") is None  # no marker colon
    assert (is_scribe_label("RESOLVED"), is_scribe_label("Priya")) == ("decision", None)
    assert said_decision("We agreed to quarantine flaky tests within a day.")
    assert not said_decision("This handbook collects what the guild agreed on.")
    assert not said_decision("It would have been fancy, but we decided not to, because of the cost.")


def test_heading_kinds_and_practice_names() -> None:
    kinds = {h: heading_kind(h) for h in (
        "Goals", "Day 3", "Transcript for 2024-06-04", "Overview", "Should Do", "Further reading",
        "Summary", "Pinning Actions", "Deciding which browsers to support", "Step One: Take a broad view",
    )}  # fmt: skip
    assert kinds == {
        "Goals": "generic", "Day 3": "generic", "Transcript for 2024-06-04": "generic", "Overview": "generic",
        "Should Do": "generic", "Further reading": "navigation", "Summary": "qualifiable",
        "Pinning Actions": "specific", "Deciding which browsers to support": "specific",
        "Step One: Take a broad view": "specific",
    }  # fmt: skip
    assert practice_name("You should archive repositories that are no longer used.") == (
        "Archive repositories that are no longer used"
    )
    assert practice_name("Unless you have a valid use case, do not use assets hosted by a third party.") == (
        "Do not use assets hosted by a third party"
    )
    assert practice_name("RESOLVED: all services pin their runner images to a digest.") == (
        "All services pin their runner images to a digest"
    )
    assert practice_name("And we've decided not to use the LCD.") == "Do not use the LCD"


def test_a_topic_heading_is_followed_by_the_practice_it_holds() -> None:
    # a one- or two-word topic says what the section is about, not what to do
    assert topic_and_practice("Versioning", "You should keep Terraform up to date.") == (
        "Versioning: Keep Terraform up to date"
    )
    assert topic_and_practice("Dependency manager", "You must pin every dependency to an exact version.") == (
        "Dependency manager: Pin every dependency to an exact version"
    )
    # a heading that already says the practice stays alone
    assert topic_and_practice("Update dependencies frequently", "Update your dependencies frequently.") == (
        "Update dependencies frequently"
    )
    # a long heading names the practice itself
    assert topic_and_practice("Deciding which browsers to support", "Use the analytics to decide.") == (
        "Deciding which browsers to support"
    )
    assert topic_and_practice("Reviews", "After each release, review the firewall rules.") == (
        "Reviews: Review the firewall rules"
    )
    # advice that does not read as an instruction, or leans on what came before, is no name
    assert topic_and_practice("Generated CL descriptions", "Their descriptions should also follow the advice here.") == (
        "Generated CL descriptions"
    )
    assert topic_and_practice("Comments", "Usually comments are useful when they explain why.") == "Comments"
    # a practice that does not fit in a short name is not cut off mid-clause: the topic stays alone
    long = "Make sure the documentation of the pull request is clear and complete before anyone approves it."
    assert topic_and_practice("Documentation", long) == "Documentation"
    assert topic_and_practice("Secrets", None) == "Secrets"
    # modal advice to the reader names it once its address is dropped ("You should use uv.")
    assert topic_and_practice("Dependency manager", "You should use uv. It is fast.") == "Dependency manager: Use uv"
    # a name that leans on something unnamed, or a sentence that only opens its list, does not
    assert topic_and_practice("Code checking", "If you cannot remove a warning, use an annotation to suppress it.") == (
        "Code checking"
    )
    assert topic_and_practice("Vulnerability Disclosure", "Services should participate by:") == "Vulnerability Disclosure"
    # a list's commas do not end the clause
    assert practice_name("Ask for unit, integration, or end-to-end tests as appropriate.") == (
        "Ask for unit, integration, or end-to-end tests as appropriate"
    )
