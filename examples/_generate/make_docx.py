"""Rebuild examples/docs/oncall-handover.docx (demo corpus, fictional content).

Run with: /work/main/.venv/bin/python examples/_generate/make_docx.py
"""
import datetime
from pathlib import Path

from docx import Document
from docx.shared import Pt

OUT = Path(__file__).resolve().parent.parent / "docs" / "oncall-handover.docx"


def main() -> None:
    doc = Document()
    core = doc.core_properties
    core.title = "On-call handover"
    core.author = "Ravi Iyer (SRE)"
    core.subject = "Platform Guild demo corpus"
    # fixed dates so rebuilding does not change the document metadata
    core.created = datetime.datetime(2026, 9, 8, 9, 0, 0)
    core.modified = datetime.datetime(2026, 10, 1, 16, 30, 0)
    core.last_modified_by = "Ravi Iyer (SRE)"

    doc.add_heading("On-call handover", level=0)
    doc.add_paragraph(
        "Owner: SRE team. Applies to every team in the primary on-call rotation "
        "(SRE, Payments, Search, Data Platform, and Mobile from November 2026)."
    )

    doc.add_heading("Why we do handovers", level=1)
    doc.add_paragraph(
        "Most of the pain we have seen on call did not come from hard incidents but "
        "from missing context: an alert silenced by the previous on-call that expired "
        "at 3 a.m., a database migration nobody mentioned, an incident that was still "
        "half open. The weekly handover exists so that the incoming engineer starts "
        "the week knowing everything the outgoing engineer knows."
    )

    doc.add_heading("When and how", level=1)
    doc.add_paragraph(
        "The handover is every Monday at 10:00 (London time), 15 minutes, with the "
        "outgoing and incoming primary and secondary on-call. The outgoing engineer "
        "fills in the handover section below before the call. The incoming engineer "
        "reads it before the call. The call is for questions, not for reading the "
        "document out loud."
    )

    doc.add_heading("Checklist: outgoing on-call", level=1)
    for item in [
        "List every open incident, with its incident commander and current status.",
        "List alerts that fired more than twice this week, and whether a ticket exists.",
        "List every active silence, who created it, and when it expires.",
        "List planned changes for the coming week (migrations, certificate renewals, vendor maintenance).",
        "Note secrets or certificates that are due for rotation in the coming week.",
        "Note anything odd you noticed but did not have time to investigate.",
        "Update the pager schedule if you swapped shifts.",
    ]:
        doc.add_paragraph(item, style="List Bullet")

    doc.add_heading("Checklist: incoming on-call", level=1)
    for item in [
        "Read the handover notes before the call and write down your questions.",
        "Check that your pager app works: trigger a test page.",
        "Confirm you have access to the production dashboards, Vault and the runbooks.",
        "Check the expiry of every silence you inherit.",
    ]:
        doc.add_paragraph(item, style="List Number")

    doc.add_heading("Recommendations", level=1)
    doc.add_paragraph(
        "Never hand over an open incident silently. If an incident is still open at "
        "handover time, the outgoing engineer stays incident commander until it is "
        "resolved or until the handover is stated explicitly in the incident channel."
    )
    doc.add_paragraph(
        "Always give a silence an expiry date and a reason. A silence without an "
        "expiry is a deleted alert that nobody agreed to delete."
    )
    doc.add_paragraph(
        "We recommend that new rotation members shadow at least one full handover "
        "and one week of secondary on-call before they take primary."
    )
    doc.add_paragraph(
        "Avoid paging on-call for flaky tests or failed nightly builds. Those go to "
        "the owning team's channel; the pager is for customer impact."
    )
    doc.add_paragraph(
        "What worked for us: keeping the handover notes in one running document, "
        "newest week at the top, so that patterns across weeks (the same alert "
        "flapping every Tuesday) become visible."
    )

    doc.add_heading("Lessons learned", level=1)
    doc.add_paragraph(
        "In August a silence on the disk-usage alert for the ledger database expired "
        "on a Sunday night and paged the new on-call, who had no idea why it had been "
        "silenced. Since then, every silence is listed in the handover with its "
        "expiry. Next time we change the template we should also add a link to the "
        "alert's last five firings."
    )

    doc.add_heading("FAQ", level=1)
    faq = [
        ("What if an incident is still open at handover time?",
         "The outgoing engineer remains incident commander until the incident is "
         "resolved or explicitly handed over in the incident channel, including a "
         "summary of what has been tried so far."),
        ("Can I swap my on-call week?",
         "Yes. Agree the swap with the other person, update the pager schedule "
         "yourself, and mention the swap in the handover notes."),
        ("Do I need to rotate secrets while I'm on call?",
         "Only the ones listed as due in the handover. Use the overlap-first, "
         "revoke-last procedure from the platform handbook so that rotation never "
         "causes downtime."),
        ("Should flaky test alerts page the on-call engineer?",
         "No. Flaky tests are quarantined and tracked by the owning team; they "
         "never page."),
    ]
    for q, a in faq:
        para = doc.add_paragraph()
        run = para.add_run(q)
        run.bold = True
        run.font.size = Pt(11)
        doc.add_paragraph(a)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
