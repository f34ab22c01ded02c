"""Read a .docx into blocks in body order: headings (with level), paragraphs, list items, tables.

python-docx gives the document; the XML is walked directly where python-docx stops short:
content controls (w:sdt) are entered, tracked insertions (w:ins) are read and deletions are not,
merged table cells are read once. The file is checked before it is parsed, so a corrupt,
encrypted or zip-bomb file is refused with a clear message instead of exhausting memory.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

from dataforge.errors import DataforgeError

MAX_UNCOMPRESSED = 256 * 1024 * 1024  # a real document is far smaller; more is a zip bomb
MAX_RATIO = 200  # uncompressed / compressed, over the whole archive and for each large member
# XML becomes a tree in memory at several times its size: its total is held lower. A 500-page
# report's document.xml is about 10 MB.
MAX_XML = 48 * 1024 * 1024
_RATIO_FROM = 1024 * 1024  # members smaller than this may compress as well as they like
_READ = 1024 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Heading style names as Word, WPS and localised Office versions write them.
_HEADING = re.compile(r"^(heading|标题|標題|título|titre|überschrift|titolo|заголовок|見出し)\s*(\d)$", re.I)


class Block(NamedTuple):
    kind: str  # heading, paragraph, list_item, table
    text: str  # a table's rows joined as "a | b" lines
    index: int  # position in body order, counted over all blocks
    level: int = 0  # heading level (1 = top), or list nesting level (0 = top)
    numbered: bool = False  # list items: numbered rather than bulleted
    rows: tuple[tuple[str, ...], ...] = ()  # tables: cells, merged cells once


def read_blocks(path: str | Path) -> list[Block]:
    """The blocks of a .docx, or a DataforgeError saying why the file cannot be read."""
    path = Path(path)
    _check_archive(path)
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DataforgeError(f"{path}: not a readable .docx ({exc})") from None
    except Exception as exc:  # lxml raises its own errors on broken XML
        raise DataforgeError(f"{path}: the document's XML is broken ({type(exc).__name__}: {exc})") from None
    reader = _Reader(document)
    reader.walk(document.element.body)
    return reader.blocks


def _check_archive(path: Path) -> None:
    if not path.is_file():
        raise DataforgeError(f"{path}: no such file")
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataforgeError(f"{path}: a password-protected .docx or a legacy .doc file",
                             hint="save it as an unprotected .docx (Word: File > Save As > Word Document)")
    if not magic.startswith(b"PK"):
        raise DataforgeError(f"{path}: not a .docx file (a .docx is a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            total = sum(info.file_size for info in infos)
            packed = sum(info.compress_size for info in infos) or 1
    except zipfile.BadZipFile as exc:
        raise DataforgeError(f"{path}: corrupt .docx ({exc})") from None
    if "word/document.xml" not in names:
        raise DataforgeError(f"{path}: a zip archive, but not a Word document (no word/document.xml)")
    if total > MAX_UNCOMPRESSED or total / packed > MAX_RATIO:
        _bomb(path, f"it would unpack to {total / 1e6:.0f} MB ({total / packed:.0f}x its size)")
    _check_members(path)


def _bomb(path: Path, what: str) -> None:
    raise DataforgeError(f"{path}: refused: {what}, which is what a zip bomb does, not a document",
                         hint=f"documents up to {MAX_UNCOMPRESSED // 2**20} MB unpacked, {MAX_XML // 2**20} MB of "
                              "it XML, are read")


def _check_members(path: Path) -> None:
    """Unpack every member as a stream, counting what really comes out (headers can lie), and
    stop at the first limit passed: each large member's ratio, the XML that would be parsed, and
    the whole. Memory stays at one read buffer whatever the archive holds; time at the limits."""
    total = xml = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                is_xml = info.filename.endswith((".xml", ".rels"))
                size = 0
                with archive.open(info) as member:
                    while piece := member.read(_READ):
                        size += len(piece)
                        total += len(piece)
                        xml += len(piece) * is_xml
                        if size > _RATIO_FROM and size > MAX_RATIO * max(info.compress_size, 1):
                            _bomb(path, f"{info.filename} unpacks to more than {MAX_RATIO}x its packed size")
                        if xml > MAX_XML:
                            _bomb(path, f"it holds more than {MAX_XML // 2**20} MB of XML")
                        if total > MAX_UNCOMPRESSED:
                            _bomb(path, f"it unpacks to more than {MAX_UNCOMPRESSED // 2**20} MB")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError,
            zlib.error) as exc:
        raise DataforgeError(f"{path}: corrupt .docx ({exc})") from None


class _Reader:
    def __init__(self, document):
        self.document = document
        self.blocks: list[Block] = []
        self._styles = {s.style_id: s for s in document.styles}
        self._numbering = self._numbering_formats()

    def walk(self, parent) -> None:
        for child in parent.iterchildren():
            tag = child.tag
            if tag == _W + "p":
                self._paragraph(child)
            elif tag == _W + "tbl":
                self._table(child)
            elif tag == _W + "sdt":  # a content control: its content is ordinary body content
                content = child.find(_W + "sdtContent")
                if content is not None:
                    self.walk(content)

    def _add(self, kind: str, text: str, **extra) -> None:
        self.blocks.append(Block(kind, text, len(self.blocks), **extra))

    def _paragraph(self, p) -> None:
        text = paragraph_text(p).strip()
        if not text:
            return
        level = self._heading_level(p)
        if level is not None:
            self._add("heading", text, level=level)
            return
        numbering = self._list_info(p)
        if numbering is not None:
            self._add("list_item", text, level=numbering[0], numbered=numbering[1])
        else:
            self._add("paragraph", text)

    def _table(self, tbl) -> None:
        rows = []
        for tr in tbl.iter(_W + "tr"):
            if tr.getparent() is not tbl:  # rows of a nested table are read with their cell text
                continue
            cells = []
            for tc in tr.iterchildren(_W + "tc"):
                vmerge = tc.find(f"{_W}tcPr/{_W}vMerge")
                if vmerge is not None and vmerge.get(_W + "val") in (None, "continue"):
                    cells.append("")  # the cell above holds the merged text: read it once
                    continue
                cells.append(" ".join(paragraph_text(p).strip() for p in tc.iter(_W + "p")).strip())
                # A horizontally merged cell is one w:tc spanning columns: its text once, then
                # empty cells for the other columns it covers, so columns stay aligned with the header.
                span = tc.find(f"{_W}tcPr/{_W}gridSpan")
                if span is not None and span.get(_W + "val", "1").isdigit():
                    cells.extend([""] * (int(span.get(_W + "val")) - 1))
            if any(cells):
                rows.append(tuple(cells))
        if rows:
            self._add("table", "\n".join(" | ".join(c for c in row if c) for row in rows), rows=tuple(rows))

    def _heading_level(self, p) -> int | None:
        """1 for a top-level heading and so on, 0 for the document title, None for body text."""
        outline = p.find(f"{_W}pPr/{_W}outlineLvl")
        if outline is not None and outline.get(_W + "val", "9").isdigit() and int(outline.get(_W + "val")) < 9:
            return int(outline.get(_W + "val")) + 1
        style_id = p.find(f"{_W}pPr/{_W}pStyle")
        style = self._styles.get(style_id.get(_W + "val")) if style_id is not None else None
        # A custom style counts as a heading when it is one, or is based on one (any depth).
        while style is not None:
            name = (style.name or "").strip()
            if name.lower() == "title":
                return 0
            m = _HEADING.match(name)
            if m:
                return int(m.group(2))
            outline = style.element.find(f"{_W}pPr/{_W}outlineLvl")
            if outline is not None and outline.get(_W + "val", "9").isdigit() and int(outline.get(_W + "val")) < 9:
                return int(outline.get(_W + "val")) + 1
            style = style.base_style
        return None

    def _list_info(self, p) -> tuple[int, bool] | None:
        """(nesting level, numbered?) of a list paragraph, or None."""
        num_pr = p.find(f"{_W}pPr/{_W}numPr")
        style_id = p.find(f"{_W}pPr/{_W}pStyle")
        style = self._styles.get(style_id.get(_W + "val")) if style_id is not None else None
        list_style = None
        while num_pr is None and style is not None:  # numbering can come from the style
            num_pr = style.element.find(f"{_W}pPr/{_W}numPr")
            if (style.name or "").lower().startswith("list"):
                list_style = style.name
            if num_pr is None and list_style:
                break
            style = style.base_style
        # "List Bullet 2", "List Number 3": the style's number is the nesting level
        style_level = int(list_style[-1]) - 1 if list_style and list_style[-1].isdigit() else 0
        if num_pr is None:
            return (style_level, "number" in list_style.lower()) if list_style else None
        ilvl = num_pr.find(_W + "ilvl")
        num_id = num_pr.find(_W + "numId")
        level = int(ilvl.get(_W + "val", "0")) if ilvl is not None else style_level
        if num_id is not None and num_id.get(_W + "val") == "0":
            return None  # numbering explicitly switched off
        fmt = self._numbering.get((num_id.get(_W + "val") if num_id is not None else None, level), "bullet")
        return level, fmt != "bullet"

    def _numbering_formats(self) -> dict[tuple[str, int], str]:
        """(numId, level) -> numFmt ("bullet", "decimal", ...) from the numbering part."""
        try:
            numbering = self.document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return {}
        abstract = {}
        for an in numbering.iterchildren(_W + "abstractNum"):
            levels = {}
            for lvl in an.iterchildren(_W + "lvl"):
                fmt = lvl.find(_W + "numFmt")
                levels[int(lvl.get(_W + "ilvl", "0"))] = fmt.get(_W + "val") if fmt is not None else "bullet"
            abstract[an.get(_W + "abstractNumId")] = levels
        out = {}
        for num in numbering.iterchildren(_W + "num"):
            ref = num.find(_W + "abstractNumId")
            for level, fmt in abstract.get(ref.get(_W + "val") if ref is not None else None, {}).items():
                out[(num.get(_W + "numId"), level)] = fmt
        return out


def paragraph_text(p) -> str:
    """A paragraph's text: runs, hyperlinks, content controls and tracked insertions; no deletions."""
    parts = []
    for el in p.iter(_W + "t", _W + "tab", _W + "br", _W + "cr"):
        if el.tag == _W + "t":
            parts.append(el.text or "")
        elif el.tag == _W + "tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)
