"""Rebuild examples/docs/incident-postmortem-guide.pdf (demo corpus, fictional content).

A tiny, dependency-free PDF writer: A4 pages, the standard Helvetica and
Helvetica-Bold fonts (WinAnsiEncoding), a real text layer that pdfminer /
pypdf can extract. Run with: /work/main/.venv/bin/python examples/_generate/make_pdf.py
"""
from pathlib import Path
import textwrap

OUT = Path(__file__).resolve().parent.parent / "docs" / "incident-postmortem-guide.pdf"

PAGE_W, PAGE_H = 595, 842
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 60, 70, 70

# (kind, text); kinds: title, h1, p, bullet, check, gap
CONTENT = [
    ("title", "Incident Postmortem Guide"),
    ("p", "Platform Guild - maintained by SRE with input from Payments, Search, Mobile and Data Platform. "
          "Version 3, September 2026."),
    ("h1", "1. Why we write postmortems"),
    ("p", "A postmortem turns an incident into something the whole organisation learns from. It is not a "
          "report card. We write one for every incident with customer impact, every page that woke someone "
          "up for more than an hour, and every near miss that someone thinks was lucky."),
    ("h1", "2. Blameless by default"),
    ("p", "People make reasonable decisions with the information they had at the time. Describe what the "
          "system allowed to happen, not who made a mistake. Write \"the deploy pipeline allowed an "
          "unreviewed config change\", not \"Felix pushed a bad config\". If a sentence names a person, ask "
          "whether it would still be true with the name removed."),
    ("h1", "3. Timeline"),
    ("p", "The timeline is the slowest part to reconstruct after the fact. The trick is to assign a scribe at "
          "the start of the incident, someone other than the person fixing things, who posts timestamps and "
          "one-line notes in the incident channel. The postmortem timeline is then a copy-and-tidy job."),
    ("h1", "4. Deadlines"),
    ("bullet", "The draft postmortem is due within two working days, written asynchronously in the shared document."),
    ("bullet", "Reviewers comment in the document before the meeting."),
    ("bullet", "The review meeting is 30 minutes at most and covers action items only. If it needs longer, "
               "the document was not ready."),
    ("bullet", "Every action item has an owner and a due date, and is tracked as a ticket (for example PM-112)."),
    ("h1", "5. Lessons learned from recent incidents"),
    ("p", "Search reindex outage (9 September 2026): the nightly reindex job ran out of memory, the alias swap "
          "never happened, and search served a twelve-hour-old index. Nobody was paged because the wrapper "
          "script swallowed the error and exited zero. Lessons: jobs must fail loudly (set -euo pipefail), "
          "alert on the symptom (age of the live index) rather than on a job's exit code, and size memory "
          "from measured usage instead of doubling the limit."),
    ("p", "Payments webhook delays (INC-2291): a queue consumer was throttled by its CPU limit while the node "
          "was mostly idle, so webhooks were delivered up to forty minutes late. Lessons: avoid CPU limits on "
          "latency-sensitive consumers, and alert on queue age, not only on queue length."),
    ("p", "Data-lake Terraform state overwrite: two concurrent applies, no state lock, one day of re-importing "
          "resources. Lesson: locking is mandatory for every shared Terraform state and applies run only from CI."),
    ("p", "What worked for us across all three: a named incident commander from the first minute, a separate "
          "scribe, and a status update in the incident channel every 30 minutes even when there was no news."),
    ("h1", "6. Postmortem checklist"),
    ("check", "Summary in three sentences: what happened, impact, how it was resolved."),
    ("check", "Impact quantified: duration, affected customers or requests, data loss if any."),
    ("check", "Timeline with timestamps in UTC, from the first signal to full recovery."),
    ("check", "Detection: how did we find out, and how could we have found out sooner?"),
    ("check", "Contributing factors, written blamelessly; more than one is normal."),
    ("check", "What went well, so that we keep doing it."),
    ("check", "Action items with owners, due dates and ticket links."),
    ("check", "Reviewed by at least one person outside the owning team."),
    ("check", "Shared on the platform-guild mailing list once the review is done."),
    ("h1", "7. Frequently asked questions"),
    ("q", "How soon after an incident should we write the postmortem?"),
    ("p", "Start the draft the same day if you can; it is due within two working days. Memories fade fast, "
          "and the incident channel history is never as complete as you think."),
    ("q", "Do near misses need a postmortem?"),
    ("p", "Yes, a short one. Near misses are the cheapest incidents to learn from. One page is enough."),
    ("q", "Who decides whether an incident needs a postmortem?"),
    ("p", "The incident commander, and anyone may request one. If in doubt, write it; a short postmortem "
          "costs an hour, a repeated incident costs much more."),
    ("p", "Next time we revise this guide we should add a template for the customer-facing summary."),
]

STYLE = {  # font, size, leading, space before, wrap width (chars), indent
    "title": ("F2", 20, 26, 0, 60, 0),
    "h1": ("F2", 13, 18, 10, 70, 0),
    "q": ("F2", 10.5, 14, 6, 84, 0),
    "p": ("F1", 10.5, 14, 4, 86, 0),
    "bullet": ("F1", 10.5, 14, 4, 82, 4),
    "check": ("F1", 10.5, 14, 2, 80, 4),
}


def esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def layout():
    pages, ops = [], []
    y = PAGE_H - MARGIN_TOP
    for kind, text in CONTENT:
        font, size, lead, before, width, indent = STYLE[kind]
        lines = textwrap.wrap(text, width)
        if y - before - lead * min(len(lines), 2) < MARGIN_BOTTOM or (kind in ("h1", "q") and y - before - lead * 3 < MARGIN_BOTTOM):
            pages.append(ops); ops = []; y = PAGE_H - MARGIN_TOP
        y -= before
        for i, line in enumerate(lines):
            if y - lead < MARGIN_BOTTOM:
                pages.append(ops); ops = []; y = PAGE_H - MARGIN_TOP
            y -= lead
            x = MARGIN_X + indent
            if kind in ("bullet", "check"):
                # marker inline on the first line, hanging indent for the rest,
                # so text extractors keep each item in one block
                marker = "- " if kind == "bullet" else "[ ] "
                if i == 0:
                    line = marker + line
                else:
                    x += indent
            ops.append(f"BT /{font} {size} Tf {x} {y:.1f} Td ({esc(line)}) Tj ET")
    pages.append(ops)
    # footers
    for n, page in enumerate(pages, 1):
        page.append(f"BT /F1 8 Tf {MARGIN_X} 40 Td (Incident Postmortem Guide - page {n} of {len(pages)}) Tj ET")
    return pages


def build(pages) -> bytes:
    objs = {}
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 F1, 4 F2, 5 info, then (page, content) pairs
    page_ids = [6 + 2 * i for i in range(n_pages)]
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = ("<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{p} 0 R" for p in page_ids), n_pages)).encode()
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs[4] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    objs[5] = (b"<< /Title (Incident Postmortem Guide) /Author (Platform Guild SRE) "
               b"/Subject (Platform Guild demo corpus) /CreationDate (D:20260915100000Z) >>")
    for i, ops in enumerate(pages):
        pid, cid = page_ids[i], page_ids[i] + 1
        stream = "\n".join(ops).encode("cp1252")
        objs[pid] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                     f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {cid} 0 R >>").encode()
        objs[cid] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def main() -> None:
    pages = layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build(pages))
    print(f"wrote {OUT} ({len(pages)} pages)")


if __name__ == "__main__":
    main()
