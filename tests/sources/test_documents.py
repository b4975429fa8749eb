"""Document parsers: Markdown, HTML, DOCX, PPTX, PDF, e-mail, RTF, ODT and text via unstructured."""

from __future__ import annotations

import io
import logging
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from pipeline.models import PassageKind, SourceKind
from pipeline.sources import offline_nlp
from pipeline.sources.base import FileBundle, MemoryBundle, Parsed, ParseOptions, SourceError
from pipeline.sources.documents import (
    PARSERS,
    DocumentParser,
    content_type,
    elements_to_drafts,
    strip_front_matter,
)

OPTS = ParseOptions()
ROOT = Path(__file__).resolve().parents[2]
FORMATS = "formats_unstructured"


def mem(name: str, data: bytes | str) -> MemoryBundle:
    """A single-file bundle holding `data`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return MemoryBundle(name=name, files={"": raw})


def parser_for(name: str) -> DocumentParser:
    """The document parser that sniffs a file called `name`."""
    bundle = mem(name, b"x")
    matches = [p for p in PARSERS if p.sniff(bundle)]
    assert len(matches) == 1, f"{name}: {[p.name for p in matches]}"
    return matches[0]


def parse(name: str, data: bytes | str) -> Parsed:
    """Parse in-memory bytes as the parser for `name` would."""
    return parser_for(name).parse(mem(name, data), OPTS)


def parse_file(path: Path) -> Parsed:
    """Parse a file on disk with the parser its name selects."""
    return parser_for(path.name).parse(FileBundle(path), OPTS)


# Element types that come from document structure; the others (NarrativeText vs.
# UncategorizedText) come from text heuristics, which differ between spaCy and the offline
# replacement, so tests compare them as plain "Text".
STRUCTURAL = frozenset({"Title", "ListItem", "Table", "CodeSnippet"})


def rows(parsed: Parsed) -> list[tuple[str | None, list[str], str]]:
    """(element type, section path, text) of every passage; heuristic types read "Text"."""
    return [
        (p.element_type if p.element_type in STRUCTURAL else "Text", p.section_path, p.text)
        for p in parsed.passages
    ]


def build_docx(with_header: bool = True) -> bytes:
    """A small Word document with three heading levels, a list, a table and a page header."""
    import docx

    doc = docx.Document()
    if with_header:
        doc.sections[0].header.paragraphs[0].text = "Guild handbook - internal"
    doc.add_heading("Testing guild handbook", level=1)
    doc.add_paragraph("This handbook explains how the guild shares what teams learn.")
    doc.add_heading("Pairing", level=2)
    doc.add_paragraph("Testers pair with developers on every story that changes behaviour.")
    doc.add_heading("Rotation", level=3)
    doc.add_paragraph("Rotate pairs every sprint", style="List Bullet")
    doc.add_paragraph("Keep one anchor per team", style="List Bullet")
    doc.add_heading("Exploratory testing", level=2)
    table = doc.add_table(rows=2, cols=2)
    for r, cells in enumerate((("Charter", "Time box"), ("Checkout flow", "60 minutes"))):
        for c, value in enumerate(cells):
            table.cell(r, c).text = value
    doc.add_heading("Appendix", level=1)
    doc.add_paragraph("Templates live in the shared drive.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- registration and sniffing ---------------------------------------------------------------


def test_one_parser_per_format_named_by_extension() -> None:
    names = [p.name for p in PARSERS]
    assert names == ["md", "html", "docx", "pptx", "pdf", "eml", "msg", "rtf", "odt", "txt"]
    assert all(p.kind == SourceKind.document and p.version for p in PARSERS)


@pytest.mark.parametrize(
    ("filename", "fmt"),
    [
        ("notes.md", "md"),
        ("NOTES.MARKDOWN", "md"),
        ("source/standards/alerting.html.md.erb", "md"),
        ("page.html", "html"),
        ("page.HTM", "html"),
        ("a.docx", "docx"),
        ("deck.pptx", "pptx"),
        ("paper.pdf", "pdf"),
        ("mail.eml", "eml"),
        ("mail.msg", "msg"),
        ("doc.rtf", "rtf"),
        ("doc.odt", "odt"),
        ("readme.txt", "txt"),
    ],
)
def test_sniff_by_extension(filename: str, fmt: str) -> None:
    assert parser_for(filename).name == fmt


def test_sniff_refuses_folders_and_unknown_extensions() -> None:
    folder = MemoryBundle(name="export", files={"a.md": b"# x", "b.md": b"# y"})
    assert not any(p.sniff(folder) for p in PARSERS)
    assert not any(p.sniff(mem("data.csv", b"a,b")) for p in PARSERS)
    assert not any(p.sniff(mem("template.erb", b"<%= x %>")) for p in PARSERS)


def test_importing_the_module_does_not_import_unstructured() -> None:
    code = "import sys, pipeline.sources.documents; print('unstructured' in sys.modules, 'spacy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False", "False"]


# --- small fixtures: exact structure ---------------------------------------------------------


def test_markdown_front_matter_erb_and_heading_paths(fixtures: Path) -> None:
    parsed = parse_file(fixtures / "documents" / "retro-guide.md")
    assert parsed.kind == SourceKind.document and parsed.format == "md"
    top = "Running remote retrospectives"
    got = rows(parsed)
    assert got[0] == ("Title", [], top)  # the front-matter title fills the ERB heading
    paths = {text: path for _, path, text in got}
    assert paths["Before the meeting"] == [top]
    assert paths["Send the board link a day ahead so people can add notes asynchronously."] == [
        top,
        "Before the meeting",
    ]
    assert paths["Checklist"] == [top, "Before the meeting"]
    checklist = [(t, p, x) for t, p, x in got if t == "ListItem"]
    assert checklist == [
        ("ListItem", [top, "Before the meeting", "Checklist"], "[ ] Book a 60-minute slot with cameras optional"),
        ("ListItem", [top, "Before the meeting", "Checklist"], "[ ] Share the board link and the prime directive"),
        ("ListItem", [top, "Before the meeting", "Checklist"], "[x] Pick a facilitator from another team"),
    ]
    # A level-2 heading after a level-3 one pops back to the top level.
    assert paths["During the meeting"] == [top]
    assert paths["Never skip the actions review at the end."] == [top, "During the meeting"]
    assert paths["FAQ"] == [top]
    assert paths["How do we keep quiet people involved?"] == [top, "FAQ"]
    assert paths[
        "Use silent writing first, then dot voting, so every voice is on the board before anyone talks."
    ] == [top, "FAQ", "How do we keep quiet people involved?"]
    assert paths[
        "Track actions in the team backlog and review them at the start of the next retrospective."
    ] == [top, "FAQ", "What if the same issues keep coming back?"]

    everything = "\n".join(p.text for p in parsed.passages)
    for leaked in ("last_reviewed_on", "agile-guild", "---", "<%", "%>", "warning_text"):
        assert leaked not in everything
    for passage in parsed.passages:
        assert passage.kind == PassageKind.element
        assert passage.extra["filename"] == "retro-guide.md"
        assert passage.extra["title"] == top
        assert passage.page is None


def test_markdown_front_matter_title_is_prepended_when_the_body_has_no_h1() -> None:
    text = "---\ntitle: Pairing guide\n---\n\nPairing spreads knowledge across the team quickly.\n\n## Roles\n\nDriver and navigator swap every half hour.\n"
    got = rows(parse("pairing.md", text))
    assert got == [
        ("Title", [], "Pairing guide"),
        ("Text", ["Pairing guide"], "Pairing spreads knowledge across the team quickly."),
        ("Title", ["Pairing guide"], "Roles"),
        ("Text", ["Pairing guide", "Roles"], "Driver and navigator swap every half hour."),
    ]


def test_strip_front_matter() -> None:
    assert strip_front_matter("---\ntitle: A\ntags: [x]\n---\nbody\n") == ("body\n", {"title": "A", "tags": ["x"]})
    assert strip_front_matter("no front matter\n---\nx: 1\n---\n") == ("no front matter\n---\nx: 1\n---\n", {})
    body, meta = strip_front_matter("---\n: : not yaml [\n---\nbody")
    assert (body, meta) == ("body", {})


def test_html_headings_links_and_no_scripts(fixtures: Path) -> None:
    parsed = parse_file(fixtures / "documents" / "onboarding.html")
    assert parsed.format == "html"
    top = "Onboarding a new tester"
    assert [(t, p, x) for t, p, x in rows(parsed) if t == "Title"] == [
        ("Title", [], top),
        ("Title", [top], "First week"),
        ("Title", [top, "First week"], "Tooling"),
        ("Title", [top], "Second week"),
    ]
    by_text = {p.text: p for p in parsed.passages}
    tooling = by_text["We use Playwright for browser tests and pytest for everything else."]
    assert tooling.section_path == [top, "First week", "Tooling"]
    assert tooling.extra["emphasized"] == ["Playwright"]
    walk = by_text["The buddy walks the newcomer through the release pipeline and the test strategy."]
    assert walk.extra["links"] == [{"text": "release pipeline", "url": "https://example.org/pipeline"}]
    assert by_text["Shadow an exploratory testing session"].element_type == "ListItem"
    assert by_text["Shadow an exploratory testing session"].section_path == [top, "First week"]
    last = by_text["The newcomer runs an exploratory session while the buddy observes and takes notes."]
    assert last.section_path == [top, "Second week"]
    everything = " ".join(by_text)
    assert "tracking" not in everything and "font-family" not in everything


def test_docx_heading_levels_lists_tables_and_no_header() -> None:
    parsed = parse("handbook.docx", build_docx())
    assert parsed.format == "docx"
    top = "Testing guild handbook"
    assert rows(parsed) == [
        ("Title", [], top),
        ("Text", [top], "This handbook explains how the guild shares what teams learn."),
        ("Title", [top], "Pairing"),
        ("Text", [top, "Pairing"], "Testers pair with developers on every story that changes behaviour."),
        ("Title", [top, "Pairing"], "Rotation"),
        ("ListItem", [top, "Pairing", "Rotation"], "Rotate pairs every sprint"),
        ("ListItem", [top, "Pairing", "Rotation"], "Keep one anchor per team"),
        ("Title", [top], "Exploratory testing"),
        ("Table", [top, "Exploratory testing"], "Charter Time box Checkout flow 60 minutes"),
        ("Title", [], "Appendix"),
        ("Text", ["Appendix"], "Templates live in the shared drive."),
    ]
    assert {p.page for p in parsed.passages} <= {None, 1}
    assert not any("Guild handbook - internal" in p.text for p in parsed.passages)


def test_plain_text(fixtures: Path) -> None:
    parsed = parse_file(fixtures / "documents" / "standup-notes.txt")
    assert parsed.format == "txt"
    texts = [p.text for p in parsed.passages]
    assert texts == [
        "Platform guild stand-up notes",
        "We agreed to rotate the on-call facilitator every sprint so that knowledge spreads across teams.",
        "The deployment freeze before holidays is decided by the release manager, not by each team.",
        "Action items",
    ]
    assert parsed.passages[1].section_path == ["Platform guild stand-up notes"]


def test_text_with_utf8_bom_and_windows_line_ends() -> None:
    parsed = parse("notes.txt", b"\xef\xbb\xbfRetro notes\r\n\r\nWe moved the retro to Thursdays.\r\n")
    assert [p.text for p in parsed.passages] == ["Retro notes", "We moved the retro to Thursdays."]


def test_heading_stack_follows_category_depth() -> None:
    from unstructured.documents.elements import ElementMetadata, NarrativeText, PageBreak, Title

    def title(text: str, depth: int | None) -> Title:
        return Title(text, metadata=ElementMetadata(category_depth=depth))

    elements = [
        NarrativeText("Before any heading."),
        title("Guide", 0),
        title("Deep", 2),  # a skipped level nests under what exists
        NarrativeText("Under deep."),
        title("Second", 1),
        PageBreak(""),
        NarrativeText("   "),
        title("Unlevelled", None),  # formats without levels: a new top-level heading
        NarrativeText("Under unlevelled."),
    ]
    drafts = elements_to_drafts(elements, "x.html")
    assert [(d.text, d.section_path) for d in drafts] == [
        ("Before any heading.", []),
        ("Guide", []),
        ("Deep", ["Guide"]),
        ("Under deep.", ["Guide", "Deep"]),
        ("Second", ["Guide"]),
        ("Unlevelled", []),
        ("Under unlevelled.", ["Unlevelled"]),
    ]
    assert drafts[0].extra == {"filename": "x.html"}


# --- offline operation -----------------------------------------------------------------------


def corpus_sample(corpus: Path) -> dict[str, Path]:
    """One real file per format (text comes from this project's fixtures)."""
    docs = corpus / "docs" / FORMATS
    return {
        "md": corpus / "docs" / "google_eng_practices" / "review" / "index.md",
        "html": docs / "example-10k-1p.html",
        "docx": docs / "simple.docx",
        "pptx": docs / "sample-presentation.pptx",
        "pdf": docs / "pdf" / "layout-parser-paper-fast.pdf",
        "eml": docs / "eml" / "family-day.eml",
        "msg": docs / "fake-email-with-cc-and-bcc.msg",
        "rtf": docs / "fake-doc.rtf",
        "odt": docs / "simple.odt",
        "txt": ROOT / "tests" / "fixtures" / "documents" / "standup-notes.txt",
    }


@pytest.mark.integration
def test_every_format_partitions_with_no_network_and_no_download(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import unstructured.nlp.tokenize as tokenize

    attempts: list[str] = []
    blocked_connect = socket.socket.connect  # the autouse fixture's guard

    def record_connect(self: socket.socket, address: object) -> object:
        attempts.append(f"connect {address!r}")
        return blocked_connect(self, address)

    def record_urlopen(url: object, *args: object, **kwargs: object) -> object:
        attempts.append(f"urlopen {url!r}")
        raise OSError("network blocked in tests")

    def record_download(url: str, dest: str) -> None:
        attempts.append(f"spaCy model download {url}")
        raise RuntimeError("network blocked in tests")

    monkeypatch.setattr(socket.socket, "connect", record_connect)
    monkeypatch.setattr(urllib.request, "urlopen", record_urlopen)
    monkeypatch.setattr(tokenize, "_download_with_timeout", record_download)

    for fmt, path in corpus_sample(corpus).items():
        parsed = parse_file(path)
        assert parsed.format == fmt
        assert parsed.passages, path
        if fmt in ("md", "html", "docx", "pptx", "pdf", "txt"):  # the verb check did run
            assert any(p.element_type == "NarrativeText" for p in parsed.passages), path
    assert attempts == []
    expected = "spacy-model" if offline_nlp.model_installed() else "offline-heuristics"
    assert offline_nlp.ensure_offline_nlp() == expected
    if expected == "offline-heuristics":
        assert isinstance(tokenize._get_nlp(), offline_nlp.HeuristicEnglish)


def test_offline_replacement_is_installed_once_and_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import unstructured.nlp.tokenize as tokenize

    # Start from a clean slate and let monkeypatch put the process-wide state back afterwards.
    monkeypatch.setattr(offline_nlp, "_mode", None)
    monkeypatch.setattr(offline_nlp, "model_installed", lambda: False)
    monkeypatch.setattr(tokenize, "_get_nlp", tokenize._get_nlp)
    monkeypatch.setattr(tokenize, "_install_spacy_model", tokenize._install_spacy_model)
    with caplog.at_level(logging.INFO, logger=offline_nlp.__name__):
        assert offline_nlp.ensure_offline_nlp() == "offline-heuristics"
        nlp = tokenize._get_nlp()
        assert offline_nlp.ensure_offline_nlp() == "offline-heuristics"
        assert tokenize._get_nlp() is nlp
    records = [r for r in caplog.records if r.name == offline_nlp.__name__]
    assert len(records) == 1 and "en_core_web_sm" in records[0].getMessage()
    with pytest.raises(RuntimeError, match="never downloads"):
        tokenize._install_spacy_model()


def test_heuristic_sentences_and_verbs() -> None:
    nlp = offline_nlp.HeuristicEnglish()

    def verbs(text: str) -> list[str]:
        return [t.text for t in nlp(text) if t.tag_.startswith("VB")]

    assert [s.text for s in nlp("We tried it twice. It failed, e.g. on Mondays! Why?").sents] == [
        "We tried it twice.",
        "It failed, e.g. on Mondays!",
        "Why?",
    ]
    assert verbs("Review the code before merging.") == ["Review", "merging"]
    assert verbs("The team deploys daily and has a rota.") == ["deploys", "has"]
    assert verbs("Code review checklist") == []
    assert verbs("Release notes") == []
    assert verbs("We use pairing to share knowledge") == ["use", "pairing", "share"]


# --- real corpus -----------------------------------------------------------------------------


@pytest.mark.integration
def test_formats_unstructured_corpus_parses_or_fails_cleanly(corpus: Path) -> None:
    root = corpus / "docs" / FORMATS
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(files) >= 30
    results: dict[str, str] = {}
    parsed_formats: set[str] = set()
    for path in files:
        name = path.relative_to(root).as_posix()
        started = time.perf_counter()
        try:
            parsed = parse_file(path)
        except SourceError as exc:
            assert str(exc).strip(), name
            results[name] = f"SourceError: {exc}"
            continue
        elapsed = time.perf_counter() - started
        assert parsed.passages, name
        assert all(p.text.strip() and p.element_type for p in parsed.passages), name
        assert not {p.element_type for p in parsed.passages} & {"PageBreak", "Header", "Footer", "PageNumber"}
        results[name] = f"{len(parsed.passages)} passages in {elapsed:.1f}s"
        parsed_formats.add(parsed.format)
    print("\n".join(f"{k}: {v}" for k, v in results.items()))
    assert parsed_formats == {"md", "html", "docx", "pptx", "pdf", "eml", "msg", "rtf", "odt"}
    assert not [k for k, v in results.items() if v.startswith("SourceError")], results


@pytest.mark.integration
def test_pdf_pages_and_pptx_slides_are_numbered(corpus: Path) -> None:
    pdf = parse_file(corpus / "docs" / FORMATS / "pdf" / "multi-column-2p.pdf")
    assert {p.page for p in pdf.passages} == {1, 2}
    assert pdf.passages[0].section_path == [] and pdf.passages[1].section_path == [pdf.passages[0].text]
    deck = parse_file(corpus / "docs" / FORMATS / "sample-presentation.pptx")
    pages = [p.page for p in deck.passages]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] > 1
    # Slides do not inherit the previous slide's headings.
    for prev, cur in zip(deck.passages, deck.passages[1:]):
        if cur.page != prev.page and cur.section_path:
            pytest.fail(f"slide {cur.page} starts under {cur.section_path}")


@pytest.mark.integration
def test_email_passages_sit_under_the_subject(corpus: Path) -> None:
    parsed = parse_file(corpus / "docs" / FORMATS / "eml" / "family-day.eml")
    assert parsed.format == "eml"
    assert all(p.section_path[:1] == ["Family Day"] for p in parsed.passages)
    assert parsed.passages[1].text == "Get excited for our first annual family day!"
    assert parsed.passages[1].extra["subject"] == "Family Day"


@pytest.mark.integration
@pytest.mark.parametrize("name", ["index.md", "speed.md", "comments.md", "standard.md"])
def test_google_eng_practices_review_pages(corpus: Path, name: str) -> None:
    path = corpus / "docs" / "google_eng_practices" / "review" / "reviewer" / name
    if not path.exists():
        path = corpus / "docs" / "google_eng_practices" / "review" / name
    parsed = parse_file(path)
    assert len(parsed.passages) > 5
    first = parsed.passages[0]
    assert first.element_type == "Title" and first.section_path == []
    assert all(p.section_path for p in parsed.passages[1:]), [p.text for p in parsed.passages if not p.section_path]
    assert all(p.section_path[0] == first.text for p in parsed.passages[1:])


@pytest.mark.integration
@pytest.mark.parametrize(
    "relative",
    [
        "standards/alerting.html.md.erb",
        "standards/architecture-decisions.html.md.erb",
        "standards/accounts-with-third-parties.html.md.erb",
        "manuals/code-review-guidelines.html.md.erb",
        "index.html.md.erb",
    ],
)
def test_gds_way_erb_markdown(corpus: Path, relative: str) -> None:
    path = corpus / "docs" / "gds_way" / "source" / relative
    front, _ = re.match(r"---\n(.*?)\n---\n", path.read_text(encoding="utf-8"), re.DOTALL).group(1, 0)
    title = re.search(r"^title: (.*)$", front, re.MULTILINE).group(1).strip()
    parsed = parse_file(path)
    assert parsed.format == "md"
    first = parsed.passages[0]
    assert (first.element_type, first.section_path, first.text) == ("Title", [], title)
    assert all(p.section_path and p.section_path[0] == title for p in parsed.passages[1:])
    front_lines = [line for line in front.splitlines() if ":" in line]
    for passage in parsed.passages:
        assert "<%" not in passage.text and "%>" not in passage.text
        assert not any(line in passage.text for line in front_lines), passage.text
        assert passage.extra["title"] == title
    if relative == "index.html.md.erb":  # the ERB sidebar navigation is not page content
        assert not any(p.text == "About the GDS way" for p in parsed.passages)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.md", "empty.txt", "empty.docx", "empty.pdf", "empty.html", "empty.eml"])
@pytest.mark.parametrize("data", [b"", b"  \n\t\n"])
def test_empty_files_are_refused(name: str, data: bytes) -> None:
    with pytest.raises(SourceError, match="^empty file$"):
        parse(name, data)


def test_markdown_with_only_front_matter_has_no_text() -> None:
    with pytest.raises(SourceError, match="no text found"):
        parse("stub.md", "---\nlayout: core\n---\n\n")


def test_truncated_docx() -> None:
    data = build_docx()
    with pytest.raises(SourceError, match=r"^corrupt or truncated DOCX: "):
        parse("half.docx", data[: len(data) // 2])


@pytest.mark.integration
def test_truncated_real_docx(corpus: Path) -> None:
    data = (corpus / "docs" / FORMATS / "simple.docx").read_bytes()
    with pytest.raises(SourceError, match=r"^corrupt or truncated DOCX: "):
        parse("simple.docx", data[: len(data) // 2])


@pytest.mark.integration
def test_misnamed_files_say_what_they_really_are(corpus: Path) -> None:
    docs = corpus / "docs" / FORMATS
    pdf = (docs / "pdf" / "DA-1p.pdf").read_bytes()
    with pytest.raises(SourceError, match=r"^file content is PDF, not DOCX$"):
        parse("report.docx", pdf)
    with pytest.raises(SourceError, match=r"^file content is PDF, not MD$"):
        parse("notes.md", pdf)
    with pytest.raises(SourceError, match=r"^file content is PPTX, not DOCX$"):
        parse("deck.docx", (docs / "simple.pptx").read_bytes())
    with pytest.raises(SourceError, match=r"^not a PDF file: file content is DOCX$"):
        parse("paper.pdf", (docs / "simple.docx").read_bytes())
    with pytest.raises(SourceError, match=r"^not an Outlook MSG file"):
        parse("mail.msg", (docs / "eml" / "family-day.eml").read_bytes())
    with pytest.raises(SourceError, match=r"^not a valid ODT file"):
        parse("doc.odt", b"plain words, not a package")


def test_docx_package_without_document_part() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(SourceError, match=r"^corrupt DOCX: the package has no word/document.xml$"):
        parse("empty-package.docx", out.getvalue())


def test_corrupt_docx_is_called_corrupt_in_one_line() -> None:
    """python-docx fails on a wrong package with an AttributeError: the reason says 'corrupt DOCX'."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document>not\nreally xml")
    with pytest.raises(SourceError, match=r"^corrupt DOCX: its parts do not have the structure") as info:
        parse("broken.docx", out.getvalue())
    assert "\n" not in str(info.value) and "AttributeError" not in str(info.value)



def test_docx_zip_bomb_is_refused_before_partitioning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.docx"
    block = b" " * (1 << 20)
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as member:
            for _ in range(50):
                member.write(block)
    assert bomb.stat().st_size < 1 << 20

    import unstructured.partition.docx as docx_partition

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("unstructured was handed a zip bomb")

    monkeypatch.setattr(docx_partition, "partition_docx", must_not_run)
    started = time.perf_counter()
    with pytest.raises(SourceError, match=r"^refused: archive member 'word/document.xml' would expand"):
        parse_file(bomb)
    assert time.perf_counter() - started < 1.0


def encrypted_pdf(source: Path, user_password: str) -> bytes:
    """A copy of `source` encrypted with pypdf (an empty user password: owner password only)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.integration
def test_encrypted_pdf_needs_a_password(corpus: Path) -> None:
    data = encrypted_pdf(corpus / "docs" / FORMATS / "pdf" / "list-item-example.pdf", "secret")
    with pytest.raises(SourceError, match=r"^encrypted PDF: password required$"):
        parse("locked.pdf", data)


@pytest.mark.integration
def test_pdf_with_only_an_owner_password_is_read(corpus: Path) -> None:
    data = encrypted_pdf(corpus / "docs" / FORMATS / "pdf" / "list-item-example.pdf", "")
    parsed = parse("no-copy.pdf", data)
    assert any("product development" in p.text.lower() for p in parsed.passages)


def test_scanned_pdf_without_text_layer() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 120), "white").save(out, format="PDF")
    with pytest.raises(SourceError, match=r"^no extractable text \(scanned PDF\? OCR is not available offline\)$"):
        parse("scan.pdf", out.getvalue())


def test_corrupt_pdf() -> None:
    with pytest.raises(SourceError, match=r"^(corrupt PDF|PDF could not be partitioned): "):
        parse("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8)


@pytest.mark.parametrize("name", ["bad.md", "bad.txt", "bad.html.md.erb"])
def test_invalid_utf8_text(name: str) -> None:
    with pytest.raises(SourceError, match=r"not valid UTF-8 .*offset 8.*no common encoding"):
        parse(name, b"# Title\n" + bytes(range(128, 256)) * 8)


def test_binary_content_in_text_formats() -> None:
    with pytest.raises(SourceError, match=r"^file content is PNG, not TXT$"):
        parse("image.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(SourceError, match="NUL bytes"):
        parse("blob.md", b"# a\n\x00\x01\x02 text")


def test_content_type() -> None:
    assert content_type(b"%PDF-1.4 ...") == "PDF"
    assert content_type(b"{\\rtf1\\ansi hello}") == "RTF"
    assert content_type(build_docx(with_header=False)) == "DOCX"
    assert content_type(b"PK\x03\x04 truncated") == "ZIP"
    assert content_type(b"# Just markdown mentioning %PDF- later") is None
