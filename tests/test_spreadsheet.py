"""CSV and ODS round trips, and no formula ever written."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from bot.consultation.spreadsheet import (
    SpreadsheetError,
    format_of,
    neutralise,
    read_csv,
    read_ods,
    read_table,
    restore,
    write_table,
)

COLUMNS = ("reference", "titre", "description", "nombre")
TRICKY = [
    "Réservation de la salle des fêtes, été ç œ",
    "deux lignes\net une troisième\n\naprès une vide",
    "point-virgule ; et \"guillemets\" et 'apostrophe'",
    "  espaces en tête, au  milieu   et à la fin  ",
    "tab\tau milieu",
    '=HYPERLINK("http://x";"clic")',
    "+33 6 12 34 56 78",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\tdébut par tab",
    "'=déjà échappé",
    "''=deux fois",
    "'simple apostrophe",
    "",
]


def records() -> list[dict[str, object]]:
    return [
        {"reference": f"B-{i:04d}", "titre": text, "description": text[::-1], "nombre": i - 3}
        for i, text in enumerate(TRICKY)
    ]


@pytest.mark.parametrize("fmt", ["csv", "ods"])
def test_every_text_comes_back_as_written(fmt: str) -> None:
    table = read_table(write_table(COLUMNS, records(), fmt))  # type: ignore[arg-type]
    assert table.columns == COLUMNS
    assert [row.get("titre") for row in table.rows] == TRICKY
    assert [row.get("description") for row in table.rows] == [t[::-1] for t in TRICKY]
    assert [row.get("nombre") for row in table.rows] == [str(i - 3) for i in range(len(TRICKY))]
    assert [row.line for row in table.rows] == list(range(2, len(TRICKY) + 2))


def test_no_written_csv_cell_begins_like_a_formula() -> None:
    import csv

    text = write_table(COLUMNS, records(), "csv").decode("utf-8")
    assert text.startswith("\ufeffreference;titre;")
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"):
        for cell in row[:3]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_no_written_ods_cell_is_a_formula_or_begins_like_one() -> None:
    data = write_table(COLUMNS, records(), "ods")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        content = etree.fromstring(archive.read("content.xml"))
    ns = {
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    }
    cells = content.findall(".//table:table-cell", ns)
    assert cells and not any(c.get(f"{{{ns['table']}}}formula") for c in cells)
    for cell in cells:
        if cell.get(f"{{{ns['office']}}}value-type") == "string":
            text = "".join(cell.itertext())
            assert not text.startswith(("=", "+", "-", "@", "\t", "\r")), text


def test_neutralise_and_restore_are_inverse() -> None:
    for text in [*TRICKY, "'", "''", "'-", "-", "a=b"]:
        assert restore(neutralise(text)) == text
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("normal") == "normal"


def test_a_formula_typed_in_libreoffice_is_read_as_its_value_never_as_a_formula() -> None:
    """What LibreOffice writes: a formula cell, repeated cells and rows, spaces as text:s."""
    data = write_table(("a", "b", "c"), [{"a": "x"}], "ods")
    archive_in = zipfile.ZipFile(io.BytesIO(data))
    content = archive_in.read("content.xml").decode("utf-8")
    start = content.index("<table:table-row>", content.index("<table:table-row>") + 1)
    end = content.index("</table:table>")
    content = (
        content[:start]
        + '<table:table-row><table:table-cell office:value-type="float" office:value="3"'
        ' table:formula="of:=1+2"><text:p>3</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="2" office:value-type="string">'
        '<text:p>a<text:s text:c="2"/>b<text:tab/>c</text:p><text:p>d</text:p>'
        "</table:table-cell></table:table-row>"
        '<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>'
        + content[end:]
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive_out:
        for item in archive_in.infolist():
            body = content.encode() if item.filename == "content.xml" else archive_in.read(item)
            archive_out.writestr(item, body)
    table = read_ods(out.getvalue())
    assert [dict(row.cells) for row in table.rows] == [
        {"a": "3", "b": "a  b\tc\nd", "c": "a  b\tc\nd"}
    ]


def test_csv_saved_by_another_spreadsheet_is_read() -> None:
    """Without BOM, with commas, in Windows-1252: what Excel may save."""
    data = 'reference,titre\r\nB-0001,"Salle, des fêtes"\r\n'.encode("cp1252")
    table = read_csv(data)
    assert table.columns == ("reference", "titre")
    assert table.rows[0].cells == {"reference": "B-0001", "titre": "Salle, des fêtes"}


def test_csv_lines_ended_by_a_carriage_return_alone_are_read() -> None:
    """What Excel for Mac saves (« CSV Macintosh »): the file is read line by line (a 50 MB
    file no longer copied whole), split where Python's universal newlines split it."""
    data = 'reference;titre\rB-0001;"Salle\rdes fêtes"\rB-0002;Cantine'.encode("cp1252")
    table = read_csv(data)
    assert [dict(row.cells) for row in table.rows] == [
        {"reference": "B-0001", "titre": "Salle\rdes fêtes"},
        {"reference": "B-0002", "titre": "Cantine"},
    ]
    assert [row.line for row in table.rows] == [2, 3]


def test_line_numbers_are_the_spreadsheet_rows_even_with_newlines_in_cells() -> None:
    data = write_table(("a",), [{"a": "un\ndeux"}, {"a": ""}, {"a": "trois"}], "csv")
    table = read_csv(data)
    assert [(row.line, row.get("a")) for row in table.rows] == [(2, "un\ndeux"), (4, "trois")]


def test_unreadable_files_are_refused_in_french() -> None:
    with pytest.raises(SpreadsheetError, match="vide"):
        read_csv(b"")
    with pytest.raises(SpreadsheetError, match="ODS illisible"):
        read_ods(b"PK\x03\x04 pas un zip")
    with pytest.raises(SpreadsheetError, match="deux fois"):
        read_csv(b"a;a\n1;2\n")
    with pytest.raises(SpreadsheetError, match="ligne 2"):
        read_csv(b"a;b\n1;2;3\n")
    with pytest.raises(SpreadsheetError, match="format"):
        format_of("brouillon.xlsx")
    assert format_of("Brouillon.ODS") == "ods"
