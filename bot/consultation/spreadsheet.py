"""Tables in and out of the team's spreadsheet: CSV (UTF-8 with BOM, ``;``) and ODS.

A table is a header and rows of text cells, each row with the number the spreadsheet shows
for it (the header is row 1), so that errors name the line the team sees in LibreOffice,
even when a cell holds several lines of text.

**Formula injection.** A cell a spreadsheet would read as a formula (beginning with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, so that
a contribution typed as ``=HYPERLINK(...)`` stays text. A cell that already begins with
apostrophes before such a character gets one more, so that reading strips exactly one and
gives the original text back. Reading never evaluates anything: an ODS cell that the team
turned into a formula is read as the value LibreOffice last computed, as plain text.

ODS is written with ``lxml`` inside an ``odfdo`` document (``odfdo``'s cell objects cost
about 5 ms a row, 25 s for 5,000 rows) and read with ``odfdo``, which handles what
LibreOffice writes: repeated cells and rows, ``text:s`` spaces, tabs and line breaks.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Literal

from lxml import etree
from odfdo import Document, Element

Format = Literal["csv", "ods"]
FORMATS: tuple[Format, ...] = ("csv", "ods")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the beginning of a formula (OWASP's CSV injection list)."""
CSV_SEPARATORS = (";", ",", "\t")
"""Read in this order of preference; LibreOffice may save with another one than ours."""

_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
_SPACES = re.compile(r"( {2,}|\t|^ | $)")


class SpreadsheetError(ValueError):
    """A file that cannot be read as a table; the message is in French, for the team."""


Cell = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its cells by column name (missing cells are ``""``) and its number."""

    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    unit: str = "ligne"
    """What a row's number counts, for error messages: ``ligne``, or ``élément`` (JSON)."""


def neutralise(text: str) -> str:
    """The text as a spreadsheet must store it so as never to read it as a formula."""
    if text.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The inverse of :func:`neutralise` (a cell it did not change is returned as is)."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


def format_of(name: str | PurePath) -> Format:
    """``csv`` or ``ods``, from a file name; a French error for anything else."""
    suffix = PurePath(name).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise SpreadsheetError(f"format de fichier non reconnu : « {name} » (attendu : .csv ou .ods)")


def write_table(
    columns: Sequence[str],
    records: Iterable[Mapping[str, Cell]],
    fmt: Format,
    sheet: str = "Feuille1",
) -> bytes:
    if fmt == "csv":
        return write_csv(columns, records)
    return write_ods(columns, records, sheet)


def read_table(data: bytes, fmt: Format | None = None) -> Table:
    """Read a CSV or ODS file; without ``fmt``, an ODS is recognised by its zip signature.

    Raises:
        SpreadsheetError: the file is not a table (:func:`not_a_table` says what it is), or
            cannot be read as one.
    """
    refuse_other_kinds(data)
    if fmt is None:
        fmt = "ods" if data.startswith(b"PK\x03\x04") else "csv"
    return read_ods(data) if fmt == "ods" else read_csv(data)


# --- What a file that is not a table is ------------------------------------------------------

_UTF16 = (
    "c’est un texte en UTF-16, que Recueil ne lit pas ; enregistrez-le en « CSV UTF-8 » depuis "
    "le tableur"
)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "c’est une image PNG, pas un tableau"),
    (b"\xff\xd8\xff", "c’est une image JPEG, pas un tableau"),
    (b"GIF8", "c’est une image GIF, pas un tableau"),
    (b"%PDF-", "c’est un document PDF, pas un tableau"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "c’est un ancien fichier Microsoft Office (XLS ou DOC), que Recueil ne lit pas ; "
        "enregistrez-le en ODS ou en « CSV UTF-8 » depuis le tableur",
    ),
    (b"\xff\xfe", _UTF16),
    (b"\xfe\xff", _UTF16),
)
_XLSX = (
    "c’est un classeur Excel (XLSX), que Recueil ne lit pas ; enregistrez-le en ODS ou en "
    "« CSV UTF-8 » depuis le tableur"
)


def not_a_table(data: bytes) -> str | None:
    """Why ``data`` cannot be a CSV or ODS table, in French (« c’est une image PNG, pas un
    tableau »), for the kinds of files people pick by mistake; None for anything else."""
    for signature, reason in _SIGNATURES:
        if data.startswith(signature):
            return reason
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    head = data[:4096]
    if b"\x00" in head:
        # UTF-16 without its mark: every other byte of Latin text is zero
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            return _UTF16
        return "c’est un fichier binaire, pas un tableau"
    return None


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, KeyError, OSError):
        return None  # read_ods says it cannot read it
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return None
    if "xl/workbook.xml" in names:
        return _XLSX
    if "word/document.xml" in names:
        return "c’est un document Word (DOCX), pas un tableau"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "c’est un document OpenDocument qui n’est pas un classeur (ODT ?), pas un tableau"
    return "c’est une archive ZIP, pas un tableau"


def refuse_other_kinds(data: bytes) -> None:
    """Raise :class:`SpreadsheetError` if :func:`not_a_table` recognises ``data``."""
    reason = not_a_table(data)
    if reason is not None:
        raise SpreadsheetError(reason)


# --- CSV -------------------------------------------------------------------------------------


def write_csv(columns: Sequence[str], records: Iterable[Mapping[str, Cell]]) -> bytes:
    """UTF-8 with BOM, ``;`` separators and CRLF line ends, as French spreadsheets expect."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for record in records:
        writer.writerow([_text(record.get(column)) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def read_csv(data: bytes) -> Table:
    """A CSV in UTF-8 (with or without BOM), or in Windows-1252 as older Excel saves it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    header_line = text.split("\n", 1)[0]
    separator = max(CSV_SEPARATORS, key=lambda s: (header_line.count(s), -CSV_SEPARATORS.index(s)))
    reader = csv.reader(_lines(text), delimiter=separator)
    try:
        return _table(reader)
    except csv.Error as error:
        raise SpreadsheetError(f"fichier CSV illisible : {error}") from error


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, split where ``io.StringIO(text, newline="")``
    splits them (``\r\n``, ``\r`` or ``\n``), one at a time: the rows of a 50 MB file are
    read without that copy of all its text (four bytes a character) nor the list of all its
    records, which took 600 MB (benchmarks/import_contributions.py)."""
    start = 0
    for end in _LINE_END.finditer(text):
        yield text[start : end.end()]
        start = end.end()
    if start < len(text):
        yield text[start:]


_LINE_END = re.compile(r"\r\n|\r|\n")


# --- ODS -------------------------------------------------------------------------------------


def write_ods(
    columns: Sequence[str], records: Iterable[Mapping[str, Cell]], sheet: str = "Feuille1"
) -> bytes:
    """One sheet; text cells stay text, numbers are numbers, every line of a cell a paragraph."""
    document = Document("spreadsheet")
    document.body.clear()
    table = etree.Element(_q("table", "table"), nsmap=_NS)
    table.set(_q("table", "name"), sheet)
    etree.SubElement(table, _q("table", "table-column")).set(
        _q("table", "number-columns-repeated"), str(max(len(columns), 1))
    )
    _ods_row(table, list(columns))
    for record in records:
        _ods_row(table, [record.get(column) for column in columns])
    document.body.append(Element.from_tag(table))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def read_ods(data: bytes) -> Table:
    """The first sheet of an ODS file."""
    try:
        document = Document(io.BytesIO(data))
        table = document.body.get_table(0)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, etree.XMLSyntaxError) as error:
        raise SpreadsheetError(f"fichier ODS illisible : {error}") from error
    if table is None:
        raise SpreadsheetError("le fichier ODS ne contient aucune feuille")
    records = [[_read_cell(value) for value in row] for row in table.get_values()]
    return _table(records)


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


_CELL = _q("table", "table-cell")
_ROW = _q("table", "table-row")
_P = _q("text", "p")
_S = _q("text", "s")
_TAB = _q("text", "tab")
_VALUE_TYPE = _q("office", "value-type")
_VALUE = _q("office", "value")
_COUNT = _q("text", "c")


def _ods_row(table: etree._Element, values: Sequence[Cell]) -> None:
    row = etree.SubElement(table, _ROW)
    for value in values:
        cell = etree.SubElement(row, _CELL)
        if value is None or value == "":
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            cell.set(_VALUE_TYPE, "float")
            cell.set(_VALUE, repr(value))
            etree.SubElement(cell, _P).text = repr(value)
            continue
        cell.set(_VALUE_TYPE, "string")
        for line in _text(value).split("\n"):
            _paragraph(etree.SubElement(cell, _P), line)


def _paragraph(p: etree._Element, line: str) -> None:
    """ODF collapses spaces: runs of spaces, spaces at either end and tabs are elements."""
    parts = _SPACES.split(line)
    p.text = parts[0]
    for i in range(1, len(parts), 2):
        spaces, after = parts[i], parts[i + 1]
        element = etree.SubElement(p, _TAB if spaces == "\t" else _S)
        if len(spaces) > 1:
            element.set(_COUNT, str(len(spaces)))
        element.tail = after


def _read_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- Both ------------------------------------------------------------------------------------


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):  # a decimal comma, as a French spreadsheet reads it
        return repr(value).replace(".", ",")
    if isinstance(value, int):
        return repr(value)
    return neutralise(str(value).replace("\r\n", "\n"))


def _table(records: Iterable[list[str]]) -> Table:
    """The header and the rows of ``records``, read once, in order."""
    found = iter(records)
    header = next(found, None)
    if header is None or not any(cell.strip() for cell in header):
        raise SpreadsheetError("le fichier est vide : la première ligne doit nommer les colonnes")
    columns = tuple(restore(c).strip() for c in header)
    while columns and not columns[-1]:
        columns = columns[:-1]
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise SpreadsheetError(f"ligne 1 : la colonne « {column} » apparaît deux fois")
        seen.add(column)
    rows = []
    for number, record in enumerate(found, start=2):
        if not any(cell.strip() for cell in record):
            continue
        extra = [cell for cell in record[len(columns) :] if cell.strip()]
        if extra:
            raise SpreadsheetError(
                f"ligne {number} : {len(extra)} cellule(s) remplie(s) hors des colonnes nommées"
            )
        cells = {
            column: restore(cell) for column, cell in zip(columns, record, strict=False) if column
        }
        rows.append(Row(number, cells))
    return Table(columns, tuple(rows))
