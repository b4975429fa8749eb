"""A hostile-input set: bombs of every container kind, encodings, depth, size, names and special
files, mixed with good files. Used by tests/test_hostile_set.py and bench/hostile_ingest.py.

`write_hostile_set(folder)` returns what each file must come out as: bad files map to a word
their reason must contain, good files must be ingested. Every file is written here, from
code: nothing is downloaded and nothing is taken from the real corpus.
"""

from __future__ import annotations

import io
import os
import socket
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from tests.badfiles import minimal_docx, write_broken_files, zip_bomb

# The size cap the hostile run uses, so "huge" files stay small enough to write quickly.
HOSTILE_MAX_BYTES = 1024 * 1024


@dataclass
class HostileSet:
    """Paths to ingest and what each must come out as."""

    paths: list[Path] = field(default_factory=list)  # folders and explicit special paths
    bad: dict[str, str] = field(default_factory=dict)  # display name -> word in the reason
    good: list[str] = field(default_factory=list)  # display names that must be ingested


def _yaml_bomb(depth: int, width: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "bcdefghijklmnop"
    for i in range(depth):
        prev = "a" if i == 0 else names[i - 1]
        lines.append(f"{names[i]}: &{names[i]} [{','.join(['*' + prev] * width)}]")
    lines.append(f"title: *{names[depth - 1]}")
    return "---\n" + "\n".join(lines) + "\n---\n# Page\n\nBody.\n"


def yaml_alias_bomb(depth: int = 8) -> bytes:
    """The 398-byte Markdown front matter that once held 13 GB: aliases of aliases."""
    return _yaml_bomb(depth).encode()


def _entity_bomb_xml(root: str, depth: int = 10) -> str:
    ents = ['<!ENTITY e0 "lollollollollollollollollollol">']
    ents += [f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, depth)]
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n' + "\n".join(ents) + f"\n]>\n<{root}>&e{depth - 1};</{root}>"


def _xxe_xml(root: str) -> str:
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<{root}>&x;</{root}>'


def _package(kind: str, main_xml: str) -> bytes:
    """A DOCX/PPTX/ODT-shaped zip whose main part is `main_xml`."""
    part = {"docx": "word/document.xml", "pptx": "ppt/presentation.xml", "odt": "content.xml"}[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        if kind == "odt":
            zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(part, main_xml)
    return buf.getvalue()


def _pdf_with_stream(raw: bytes) -> bytes:
    """A one-page PDF whose content stream is `raw`, Flate-compressed."""
    data = zlib.compress(raw, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def _good_files(folder: Path, n: int) -> list[str]:
    """`n` small good sources of several formats; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    docx = minimal_docx("Keep the build green before merging.")
    for i in range(n):
        kind = i % 6
        topic = f"practice {i}: keep retrospectives short and end each with one owner per action"
        if kind == 0:
            name, data = f"guide-{i}.md", f"---\ntitle: Guide {i}\ntags: [a, b]\n---\n# Guide {i}\n\n{topic}.\n".encode()
        elif kind == 1:
            name, data = f"notes-{i}.txt", f"Notes {i}\n\n{topic}.\n".encode()
        elif kind == 2:
            name = f"retro-{i}.vtt"
            data = f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana>{topic}.\n".encode()
        elif kind == 3:
            name = f"chat-{i}.jsonl"
            data = (
                f'{{"id": "m{i}", "thread": "t{i}", "author": "ana", "text": "How do we {topic}?"}}\n'
                f'{{"id": "r{i}", "reply_to": "m{i}", "author": "ben", "text": "We {topic}."}}\n'
            ).encode()
        elif kind == 4:
            name, data = f"page-{i}.html", f"<html><body><h1>Page {i}</h1><p>{topic}.</p></body></html>".encode()
        else:
            name, data = f"doc-{i}.docx", docx
        (folder / name).write_bytes(data)
        names.append(name)
    return names


def write_good_set(folder: Path, n: int) -> list[str]:
    """Only good files (the benchmark's baseline), as many as the hostile set holds."""
    return _good_files(folder, n)


def write_hostile_set(root: Path, good: int = 40) -> HostileSet:
    """Write the hostile set under `root`; returns the paths to ingest and the expectations."""
    hs = HostileSet()
    bad_dir, good_dir = root / "bad", root / "good"
    bad_dir.mkdir(parents=True)
    hs.good = [f"good/{n}" for n in _good_files(good_dir, good)]
    # Text in UTF-16/UTF-32 without a BOM is text, not binary: it must be ingested.
    for enc in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        note = f"Notes in {enc}\n\nPair on test design before writing the code.\n"
        (good_dir / f"wide-{enc}.txt").write_bytes(note.encode(enc))
        hs.good.append(f"good/wide-{enc}.txt")

    def bad(name: str, data: bytes, word: str) -> None:
        (bad_dir / name).write_bytes(data)
        hs.bad[f"bad/{name}"] = word

    # The broken files every release already survives (truncated, encrypted, misnamed...).
    for name, word in write_broken_files(bad_dir / "broken").items():
        hs.bad[f"bad/broken/{name}"] = word
    hs.bad["bad/broken/huge.txt"] = "too large"

    # Zip bombs, in every container kind.
    for kind, member in (("docx", "word/document.xml"), ("pptx", "ppt/presentation.xml"),
                         ("odt", "content.xml"), ("zip", "general/2020-01-01.json")):  # fmt: skip
        for size in (8, 40):
            zip_bomb(bad_dir / f"zipbomb-{size}.{kind}", member=member, size_mb=size)
            hs.bad[f"bad/zipbomb-{size}.{kind}"] = "bomb"
    # XML entity bombs and external entities inside office packages and Stack Exchange dumps.
    for kind, root_tag in (("docx", "w:document"), ("pptx", "p:presentation"), ("odt", "office:document-content")):
        bad(f"entities.{kind}", _package(kind, _entity_bomb_xml(root_tag)), "DTD")
        bad(f"xxe.{kind}", _package(kind, _xxe_xml(root_tag)), "DTD")
    for i, xml in enumerate((_entity_bomb_xml("posts"), _xxe_xml("posts"),
                             "<!-- " + "x" * 8000 + " -->\n" + _entity_bomb_xml("posts"))):  # fmt: skip
        dump = bad_dir / f"se-dump-{i}"
        dump.mkdir()
        (dump / "Posts.xml").write_text(xml)
        hs.bad[f"bad/se-dump-{i}"] = "DTD"
    # YAML alias bombs and over-nested or oversized front matter.
    for depth in (3, 5, 8, 12):
        bad(f"yaml-bomb-{depth}.md", _yaml_bomb(depth).encode(), "alias")
    bad("yaml-merge-key.md", b"---\nbase: &b {x: 1}\nother:\n  <<: *b\ntitle: T\n---\n# T\n\nBody.\n", "alias")
    bad("yaml-deep.md", ("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n# T\n\nBody.\n").encode(), "nested")
    bad("yaml-huge.md", ("---\n" + "k: " + "v" * 300_000 + "\n---\n# T\n\nBody.\n").encode(), "KiB")
    # JSON nested past any parser's depth, in each JSON-reading format.
    for depth in (5_000, 100_000):
        deep = "[" * depth + "]" * depth
        bad(f"deep-{depth}.json", f'{{"meeting_transcripts": {deep}}}'.encode(), "nested")
        bad(f"deep-{depth}.jsonl", f'{{"id": "a", "text": "x", "thread": {deep}}}\n'.encode(), "nested")
        export = bad_dir / f"slack-deep-{depth}"
        (export / "general").mkdir(parents=True)
        (export / "channels.json").write_text(deep)
        (export / "users.json").write_text("[]")
        (export / "general" / "2020-01-01.json").write_text(deep)
        hs.bad[f"bad/slack-deep-{depth}"] = "nested"
    # HTML nested deeper than the HTML parser reads.
    for depth in (300, 1_000, 20_000):
        html = "<html><body>" + "<div>" * depth + "<p>Deep text.</p>" + "</div>" * depth + "</body></html>"
        bad(f"deep-{depth}.html", html.encode(), "levels deep")
    # PDF whose content stream inflates to far more than the file (a Flate bomb).
    bad("flate-bomb.pdf", _pdf_with_stream(b"0 0 m " * 40_000_000), "budget")
    # Huge single lines over the size cap.
    for ext in ("txt", "md", "jsonl", "vtt", "html"):
        bad(f"huge-line.{ext}", b"x" * (HOSTILE_MAX_BYTES + 1024), "too large")
    # Encodings: legacy single-byte and multi-byte text is read (its encoding detected and
    # warned about), bytes no encoding explains are refused, binary is called binary.
    text = "Prefer small pull requests; review within a day. Caf\u00e9 \u00fcber na\u00efve"
    for enc in ("latin-1", "cp1252", "cp1251", "shift_jis", "gb18030", "koi8-r"):
        sample = {"cp1251": "Предпочитайте маленькие запросы", "koi8-r": "Маленькие запросы на слияние",
                  "shift_jis": "小さなプルリクエストを好む", "gb18030": "优先使用小的合并请求"}.get(enc, text)  # fmt: skip
        for ext in ("md", "txt"):
            (good_dir / f"legacy-{enc}.{ext}").write_bytes((sample + "\n").encode(enc) * 20)
            hs.good.append(f"good/legacy-{enc}.{ext}")
    for ext in ("md", "txt"):
        bad(f"undecodable.{ext}", bytes(range(1, 256)) * 8, "no common encoding")
    for i in range(4):
        bad(f"binary-{i}.txt", bytes(range(256)) * (i + 1), "binary")
    # Empty and whitespace-only files of each kind.
    for ext in ("md", "txt", "html", "jsonl", "docx", "pptx", "pdf", "vtt", "json"):
        bad(f"empty.{ext}", b"", "empty" if ext not in ("jsonl", "json") else "")
    # Names that are not UTF-8.
    for i, raw in enumerate((b"caf\xe9", b"\xff\xfe", b"na\xefve-notes", b"\x80\x81")):
        path = os.path.join(os.fsencode(bad_dir), raw + b"-%d.md" % i)
        with open(path, "wb") as fh:
            fh.write(b"# Title\n\nA readable page behind an unreadable name.\n")
        hs.bad[os.path.relpath(path, os.fsencode(root)).decode("utf-8", "backslashreplace")] = "UTF-8"
    # Special files in a folder (skipped with a reason) and named on the command line.
    special = bad_dir / "special"
    special.mkdir()
    for i in range(3):
        os.mkfifo(special / f"pipe-{i}.md")
        hs.bad[f"bad/special/pipe-{i}.md"] = "pipe"
    (special / "zero.txt").symlink_to("/dev/zero")
    (special / "null.md").symlink_to("/dev/null")
    (special / "loop-a").symlink_to("loop-b")
    (special / "loop-b").symlink_to("loop-a")
    (special / "dangling.md").symlink_to("nowhere.md")
    for name in ("zero.txt", "null.md", "loop-a", "loop-b", "dangling.md"):
        hs.bad[f"bad/special/{name}"] = "link"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(special / "chat.sock"))
    sock.close()  # the socket file stays on disk
    hs.bad["bad/special/chat.sock"] = "socket"
    hs.paths = [bad_dir, good_dir]
    for name, word in (("pipe-0.md", "pipe"), ("zero.txt", "device"), ("loop-a", "loop"),
                       ("dangling.md", "broken"), ("chat.sock", "socket")):  # fmt: skip
        hs.paths.append(special / name)
        hs.bad[f"explicit:{name}"] = word
    return hs
