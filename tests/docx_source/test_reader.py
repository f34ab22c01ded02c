"""Each reader feature on a real .docx written by python-docx."""

import zipfile

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from dataforge.docx_source.reader import read_blocks
from dataforge.errors import DataforgeError


def save(document, tmp_path, name="doc.docx"):
    path = tmp_path / name
    document.save(str(path))
    return path


def kinds(blocks):
    return [(b.kind, b.level, b.text) for b in blocks]


def test_body_order_with_tables_between_paragraphs(tmp_path):
    d = docx.Document()
    d.add_paragraph("before")
    d.add_table(rows=1, cols=2).rows[0].cells[0].text = "cell"
    d.add_paragraph("after")
    assert [(b.kind, b.text) for b in read_blocks(save(d, tmp_path))] == [
        ("paragraph", "before"), ("table", "cell"), ("paragraph", "after")]


def test_headings_by_level_title_and_outline(tmp_path):
    d = docx.Document()
    d.add_heading("Guide", level=0)
    d.add_heading("Chapter", level=1)
    d.add_heading("Section", level=2)
    p = d.add_paragraph("Outlined body text")
    p._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="2"/>'))
    assert kinds(read_blocks(save(d, tmp_path))) == [
        ("heading", 0, "Guide"), ("heading", 1, "Chapter"), ("heading", 2, "Section"), ("heading", 3, "Outlined body text")]


def test_localised_and_derived_heading_styles(tmp_path):
    d = docx.Document()
    chinese = d.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)  # as WPS names it
    house = d.styles.add_style("House Title", WD_STYLE_TYPE.PARAGRAPH)
    house.base_style = d.styles["Heading 3"]
    deeper = d.styles.add_style("House Subtitle", WD_STYLE_TYPE.PARAGRAPH)
    deeper.base_style = house
    d.add_paragraph("第一章", style=chinese)
    d.add_paragraph("Custom", style=house)
    d.add_paragraph("Custom, two styles down", style=deeper)
    assert kinds(read_blocks(save(d, tmp_path))) == [
        ("heading", 1, "第一章"), ("heading", 3, "Custom"), ("heading", 3, "Custom, two styles down")]


def test_bulleted_and_numbered_lists_with_levels(tmp_path):
    d = docx.Document()
    d.add_paragraph("one", style="List Bullet")
    d.add_paragraph("one.a", style="List Bullet 2")
    d.add_paragraph("first", style="List Number")
    blocks = read_blocks(save(d, tmp_path))
    assert [(b.kind, b.level, b.numbered, b.text) for b in blocks] == [
        ("list_item", 0, False, "one"), ("list_item", 1, False, "one.a"), ("list_item", 0, True, "first")]


def test_merged_cells_are_read_once(tmp_path):
    d = docx.Document()
    t = d.add_table(rows=3, cols=3)
    t.cell(0, 0).merge(t.cell(0, 1)).text = "wide header"
    t.cell(0, 2).text = "h3"
    t.cell(1, 0).merge(t.cell(2, 0)).text = "tall"
    for r in (1, 2):
        t.cell(r, 1).text, t.cell(r, 2).text = f"b{r}", f"c{r}"
    (block,) = read_blocks(save(d, tmp_path))
    assert block.rows == (("wide header", "", "h3"), ("tall", "b1", "c1"), ("", "b2", "c2"))
    assert block.text.count("wide header") == 1 and block.text.count("tall") == 1


def test_content_controls_and_tracked_changes(tmp_path):
    d = docx.Document()
    body = d.element.body
    sdt = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>inside a control</w:t></w:r></w:p>'
                    '</w:sdtContent></w:sdt>')
    body.insert(0, sdt)
    p = d.add_paragraph("kept ")
    p._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="1" w:author="a"><w:r><w:t>inserted</w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="a"><w:r><w:delText>deleted</w:delText></w:r>'
                          '</w:del>'))
    assert [b.text for b in read_blocks(save(d, tmp_path))] == ["inside a control", "kept inserted"]


@pytest.mark.parametrize("content, message", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password-protected .docx or a legacy .doc"),
    (b"just some text", "not a .docx file"),
    (b"PK\x03\x04 broken zip", "corrupt .docx"),
])
def test_files_that_are_not_documents_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.docx"
    path.write_bytes(content)
    with pytest.raises(DataforgeError, match=message):
        read_blocks(path)


def test_a_zip_that_is_not_word(tmp_path):
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DataforgeError, match="not a Word document"):
        read_blocks(path)


def test_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))  # 300 MB of zeros, a few hundred KB packed
    with pytest.raises(DataforgeError, match="zip bomb"):
        read_blocks(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataforgeError, match="no such file"):
        read_blocks(tmp_path / "nope.docx")


def _padded_bomb(path, xml_mib: int):
    """A .docx whose document.xml is ``xml_mib`` MiB of valid XML (a long comment) that deflates
    to almost nothing, plus stored random padding so that the archive-wide ratio looks ordinary."""
    import os
    import zipfile

    import docx

    plain = path.with_name("plain.docx")
    docx.Document().save(str(plain))
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                data = head + b"<w:body><!--" + b" " * (xml_mib << 20) + b"-->" + tail
            out.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
        padding = (xml_mib << 20) // 150
        out.writestr("word/media/padding.bin", os.urandom(padding), compress_type=zipfile.ZIP_STORED)
    total = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    assert total / path.stat().st_size < 200  # passes the archive-wide checks
    return path


def test_a_bomb_that_passes_archive_wide_checks_is_refused_in_bounded_memory(tmp_path):
    """Read in a child process, whose peak memory is the measure: the XML is never all in memory."""
    import subprocess
    import sys

    path = _padded_bomb(tmp_path / "bomb.docx", 200)
    # VmHWM, not ru_maxrss: on Linux the latter keeps the parent's peak across fork and exec.
    code = ("import re, sys\n"
            "from dataforge.docx_source.reader import read_blocks\n"
            "from dataforge.errors import DataforgeError\n"
            "try:\n    read_blocks(sys.argv[1])\nexcept DataforgeError as e:\n    print(e.message)\n"
            "status = open('/proc/self/status').read()\n"
            "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    message, peak_mib = done.stdout.splitlines()
    assert "refused" in message and "document.xml unpacks to more than 200x" in message
    assert int(peak_mib) < 200  # the XML alone is 200 MiB; a parse would take gigabytes


def test_more_xml_than_the_limit_is_refused(tmp_path, monkeypatch):
    from dataforge.docx_source import reader

    path = _padded_bomb(tmp_path / "big.docx", 2)
    monkeypatch.setattr(reader, "_RATIO_FROM", 1 << 30)  # judge the XML total alone
    monkeypatch.setattr(reader, "MAX_XML", 1 << 20)
    with pytest.raises(DataforgeError, match="more than 1 MB of XML"):
        reader.read_blocks(path)
