"""The demo corpus's recurring questions (examples/README.md, "Recurring topics") each come out
as one FAQ artefact backed by several sources: the brief's "solved 4 times, in 3 teams".

Real parts: the bundled embedding model, the offline extractors and the SQLite store, through
the stage functions `practice run` calls (Prefect itself is covered by tests/test_run_flow.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.store import open_store
from tests.demo_home import prepare_demo_home

pytestmark = pytest.mark.integration

# topic (as examples/README.md names it) → what its FAQ's question says, and how many distinct
# sources the folded artefact must cite at least (README: where the question recurs)
TOPICS = {
    "flaky tests": (r"flaky tests", 3),  # and asked 4 times: see the test below
    "Kubernetes requests/limits sizing": (r"requests and limits|memory limit", 2),
    "remote retrospectives": (r"retrospective", 2),
    "Terraform state locking": (r"terraform state locking", 2),
    "secrets rotation": (r"rotate .*password", 2),
    "on-call handover": (r"goes into the (?:on-call|monday) handover", 2),
    "postmortems": (r"postmortem", 2),
    "feature flag cleanup": (r"feature flag", 2),
}


@pytest.fixture(scope="module")
def faqs(tmp_path_factory: pytest.TempPathFactory) -> list:
    home: Path = tmp_path_factory.mktemp("demo") / "home"
    prepare_demo_home(home, publish=False)
    store = open_store(home)
    try:
        return store.artefacts(kind="faq")
    finally:
        store.close()


@pytest.mark.parametrize("topic", list(TOPICS))
def test_each_recurring_question_folds_into_one_artefact(faqs: list, topic: str) -> None:
    pattern, min_sources = TOPICS[topic]
    about = [a for a in faqs if re.search(pattern, a.question or "", re.IGNORECASE)]
    assert about, f"no FAQ about {topic}"
    folded = [a for a in about if a.support.candidates > 1]
    assert len(folded) == 1, f"{topic}: {[(a.question, a.support) for a in about]}"
    assert folded[0].support.sources >= min_sources


def test_flaky_tests_is_asked_four_times_in_three_sources(faqs: list) -> None:
    """README: Slack twice (Payments, Mobile's "unreliable UI tests"), the mail thread, the handbook."""
    (flaky,) = [a for a in faqs if a.support.candidates > 1 and re.search("flaky tests", a.question or "", re.I)]
    assert flaky.support.candidates >= 4 and flaky.support.sources >= 3
