"""Tables as the OVS tools print them: OVS ``lib/table.c`` in Python.

``ovsdb-client`` (list-tables, list-columns, dump, monitor) and, later,
``ovs-vsctl`` (list, find, ``--columns``) print their results through one
formatter with five output formats and three cell formats.  This module is
that formatter, byte for byte:

* a :class:`Table` is a list of headings, rows of :class:`Cell`, an optional
  caption and a timestamp flag;
* a :class:`Cell` is literal text, or OVSDB data -- a :class:`Datum` with its
  :class:`Type`, or the datum's JSON with an optional type, exactly what OVS
  stores in ``struct cell``;
* a :class:`TableStyle` says how to print: ``--format=table|list|html|csv|json``,
  ``--data=string|bare|json``, ``--no-headings``, ``--pretty``, ``--bare``,
  ``--max-column-width``.  ``TableStyle.apply_option`` is OVS's
  ``TABLE_OPTION_HANDLERS``, so every tool parses these options the same way;
* a :class:`TableFormatter` turns tables into text.  It remembers whether it
  printed a table already, because OVS separates consecutive tables (table,
  list and csv formats) with a blank line; the C code keeps that in a global,
  a tool here keeps one formatter for its whole run.

How a data cell becomes text (``cell_to_text``): with ``--data=json``, or
without a type, it is the JSON, compact with sorted keys.  Otherwise the JSON
is parsed against the type -- *with* its constraints -- and printed in the
string syntax (``[a, b]``, ``{k=v}``) or the bare syntax (``a b``, ``k=v``);
data that does not parse falls back to JSON.  The JSON output format puts a
data cell's JSON itself in the output, whatever ``--data`` says.

Widths and padding count bytes of UTF-8, like C's ``strlen`` and ``%-*.*s``,
so tables with non-ASCII text line up exactly as OVS's do.  (Where
``--max-column-width`` cuts a multi-byte character, C emits the partial
bytes; we drop them.)

``json_to_string`` is OVS's ``json_to_string`` with ``JSSF_SORT`` and
optionally ``JSSF_PRETTY`` (two spaces per level, no new-line before a
closing bracket, ``{\\n  }`` for an empty object), reals as ``%.15g``.  The
tools print every JSON result through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Any

from .data import Datum, uuid_from_string
from .errors import OvsdbError
from .schema import Type

__all__ = [
    "LONG_OPTIONS",
    "SHORT_OPTIONS",
    "USAGE",
    "Cell",
    "CellFormat",
    "Table",
    "TableFormat",
    "TableFormatter",
    "TableStyle",
    "TableStyleError",
    "format_timestamp",
    "json_to_string",
]


class TableFormat(StrEnum):
    """``--format``: the shape of the output."""

    TABLE = "table"
    LIST = "list"
    HTML = "html"
    CSV = "csv"
    JSON = "json"


class CellFormat(StrEnum):
    """``--data``: how a data cell is written."""

    STRING = "string"
    BARE = "bare"
    JSON = "json"


class TableStyleError(ValueError):
    """A bad ``--format``/``--data``/``--max-column-width`` argument (OVS's text)."""


SHORT_OPTIONS = "f:d:"
"""getopt short options of the table style (``-f FORMAT``, ``-d FORMAT``)."""
LONG_OPTIONS = ("format=", "data=", "no-headings", "pretty", "bare", "max-column-width=")
"""getopt long options of the table style (OVS's ``TABLE_LONG_OPTIONS``)."""

USAGE = """
Output formatting options:
  -f, --format=FORMAT         set output formatting to FORMAT
                              ("table", "html", "csv", or "json")
  -d, --data=FORMAT           set table cell output formatting to
                              FORMAT ("string", "bare", or "json")
  --no-headings               omit table heading row
  --pretty                    pretty-print JSON in output
  --bare                      equivalent to "--format=list --data=bare --no-headings"
"""
"""OVS's ``table_usage`` text, for a tool's ``--help``."""


@dataclass(slots=True)
class TableStyle:
    """How to print tables (OVS's ``struct table_style``)."""

    format: TableFormat = TableFormat.LIST
    """Output format; OVS's default is list, ovsdb-client switches to table."""
    cell_format: CellFormat = CellFormat.STRING
    headings: bool = True
    """Print column headings (table, csv, html) or labels (list)."""
    pretty: bool = False
    """Pretty-print JSON output (``JSSF_PRETTY``); keys are always sorted."""
    max_column_width: int = 0
    """Table format: truncate cells to this many bytes; 0 means no limit."""

    def set_format(self, name: str) -> None:
        try:
            self.format = TableFormat(name)
        except ValueError:
            raise TableStyleError(f'unknown output format "{name}"') from None

    def set_cell_format(self, name: str) -> None:
        try:
            self.cell_format = CellFormat(name)
        except ValueError:
            raise TableStyleError(f'unknown data format "{name}"') from None

    def apply_option(self, option: str, arg: str) -> bool:
        """Apply one getopt option if it is a table option; False if it is not.

        ``option`` is as getopt returns it (``-f``, ``--format``, ...).
        """
        if option in ("-f", "--format"):
            self.set_format(arg)
        elif option in ("-d", "--data"):
            self.set_cell_format(arg)
        elif option == "--no-headings":
            self.headings = False
        elif option == "--pretty":
            self.pretty = True
        elif option == "--bare":
            self.format = TableFormat.LIST
            self.cell_format = CellFormat.BARE
            self.headings = False
        elif option == "--max-column-width":
            self.max_column_width = c_atoi(arg)
        else:
            return False
        return True


def leading_int(s: str) -> tuple[int, str]:
    """(sign, digits) as C scans a number: leading blanks, a sign, then digits."""
    t = s.lstrip(" \t\n\v\f\r")
    sign = -1 if t[:1] == "-" else 1
    if t[:1] in ("+", "-"):
        t = t[1:]
    digits = ""
    for c in t:
        if not ("0" <= c <= "9"):
            break
        digits += c
    return sign, digits


def c_atoi(s: str) -> int:
    """C's ``atoi``: leading blanks, a sign, digits; anything else stops it."""
    sign, digits = leading_int(s)
    return sign * int(digits) if digits else 0


# --- cells --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: literal text, or OVSDB data (a datum, or its JSON), or empty.

    Build cells with the constructors.  ``text`` wins over data, as in OVS.
    """

    text: str | None = None
    """Literal text, printed verbatim whatever the cell format."""
    json: Any = None
    """The datum as JSON (RFC 7047 notation); None for no data."""
    type: Type | None = None
    """Type of the data; without it, data is always printed as JSON."""
    datum: Datum | None = None
    """The datum itself, when the caller has it parsed already."""

    @classmethod
    def of_text(cls, text: str) -> Cell:
        return cls(text=text)

    @classmethod
    def of_json(cls, value: Any, type_: Type | None = None) -> Cell:
        return cls(json=value, type=type_)

    @classmethod
    def of_datum(cls, datum: Datum, type_: Type) -> Cell:
        return cls(datum=datum, type=type_)

    @property
    def is_empty(self) -> bool:
        return self.text is None and self.json is None and self.datum is None

    def to_json(self) -> Any:
        """The cell in the JSON output format: text as a string, data as JSON."""
        if self.text is not None:
            return self.text
        if self.datum is not None:
            return self.datum.to_json()
        return self.json

    def to_text(self, cell_format: CellFormat) -> str:
        """The cell as text (OVS's ``cell_to_text``)."""
        if self.text is not None:
            return self.text
        if self.datum is None and self.json is None:
            return ""
        if cell_format is CellFormat.JSON or self.type is None:
            return json_to_string(self.to_json())
        datum = self.datum
        if datum is None:
            try:
                datum = Datum.from_json(self.type, self.json)
            except (OvsdbError, ValueError, TypeError):
                return json_to_string(self.json)
        if cell_format is CellFormat.STRING:
            return datum.to_string(self.type)
        return datum.to_bare()


CellLike = Cell | str | None
"""What ``Table.add_row`` accepts: a cell, literal text, or None for empty."""


def _as_cell(value: CellLike) -> Cell:
    if isinstance(value, Cell):
        return value
    if value is None:
        return _EMPTY
    return Cell(text=value)


_EMPTY = Cell()


@dataclass(slots=True)
class Table:
    """Headings and rows of cells, ready for a :class:`TableFormatter`."""

    headings: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str | None = None
    timestamp: bool = False
    """Print the wall-clock time with the table (``--timestamp``)."""

    def add_column(self, heading: str) -> None:
        if self.rows:
            raise ValueError("columns must be added before rows")
        self.headings.append(heading)

    def add_row(self, cells: Iterable[CellLike]) -> None:
        """Append a row; missing trailing cells are empty, extra ones an error."""
        row = [_as_cell(c) for c in cells]
        if len(row) > len(self.headings):
            raise ValueError(f"row has {len(row)} cells but the table has "
                             f"{len(self.headings)} columns")
        row.extend([_EMPTY] * (len(self.headings) - len(row)))
        self.rows.append(row)


# --- formatting ---------------------------------------------------------------

def format_timestamp(ms: int) -> str:
    """``%Y-%m-%d %H:%M:%S.###`` in UTC, ``###`` being the milliseconds."""
    t = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{t:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _blen(s: str) -> int:
    return len(s.encode("utf-8"))


def _finish_line(parts: list[str]) -> str:
    return "".join(parts).rstrip(" ") + "\n"


def _fit(text: str, width: int) -> str:
    """C's ``%-*.*s``: cut to ``width`` bytes, pad with spaces to ``width``."""
    data = text.encode("utf-8")
    if len(data) > width:
        data = data[:width]
        text = data.decode("utf-8", "ignore")
    return text + " " * (width - len(data))


class TableFormatter:
    """Formats tables in one style, remembering whether one was printed yet."""

    def __init__(self, style: TableStyle, clock_ms: Callable[[], int] | None = None) -> None:
        self.style = style
        self.clock_ms = clock_ms or _wall_ms
        """Wall-clock milliseconds, for ``Table.timestamp`` (tests pass a fake)."""
        self.first = True

    def reset(self) -> None:
        """The next table is the first again (OVS's ``table_format_reset``)."""
        self.first = True

    def format(self, table: Table) -> str:
        fmt = self.style.format
        if fmt is TableFormat.HTML:
            return self._html(table)
        if fmt is TableFormat.JSON:
            return self._json(table)
        out: list[str] = []
        if self.first:
            self.first = False
        else:
            out.append("\n")
        if table.timestamp:
            out.append(format_timestamp(self.clock_ms()) + "\n")
        if table.caption is not None:
            out.append(table.caption + "\n")
        texts = [[c.to_text(self.style.cell_format) for c in row] for row in table.rows]
        if fmt is TableFormat.TABLE:
            self._table(table, texts, out)
        elif fmt is TableFormat.LIST:
            self._list(table, texts, out)
        else:
            self._csv(table, texts, out)
        return "".join(out)

    def _table(self, table: Table, texts: list[list[str]], out: list[str]) -> None:
        style = self.style
        widths: list[int] = []
        for x, heading in enumerate(table.headings):
            w = max((_blen(row[x]) for row in texts), default=0)
            if 0 < style.max_column_width < w:
                w = style.max_column_width
            if style.headings:
                w = max(w, _blen(heading))
            widths.append(w)
        if style.headings:
            out.append(_finish_line([
                " " * (x > 0) + h + " " * max(0, widths[x] - _blen(h))
                for x, h in enumerate(table.headings)]))
            out.append(_finish_line([" " * (x > 0) + "-" * w for x, w in enumerate(widths)]))
        for row in texts:
            out.append(_finish_line([" " * (x > 0) + _fit(t, widths[x])
                                     for x, t in enumerate(row)]))

    def _list(self, table: Table, texts: list[list[str]], out: list[str]) -> None:
        for y, row in enumerate(texts):
            if y:
                out.append("\n")
            for x, text in enumerate(row):
                if self.style.headings:
                    heading = table.headings[x]
                    out.append(heading + " " * max(0, 20 - _blen(heading)) + ": ")
                out.append(text + "\n")

    def _csv(self, table: Table, texts: list[list[str]], out: list[str]) -> None:
        if self.style.headings:
            out.append(",".join(_csv_cell(h) for h in table.headings) + "\n")
        for row in texts:
            out.append(",".join(_csv_cell(t) for t in row) + "\n")

    def _html(self, table: Table) -> str:
        out: list[str] = []
        if table.timestamp:
            out.append(format_timestamp(self.clock_ms()) + "\n")
        out.append("<table border=1>\n")
        if table.caption is not None:
            out.append(_html_cell("caption", table.caption))
        if self.style.headings:
            out.append("  <tr>\n")
            out.extend(_html_cell("th", h) for h in table.headings)
            out.append("  </tr>\n")
        for row in table.rows:
            out.append("  <tr>\n")
            for heading, cell in zip(table.headings, row, strict=True):
                content = cell.to_text(self.style.cell_format)
                if heading == "_uuid":
                    short = content.encode("utf-8")[:8].decode("utf-8", "ignore")
                    out.append(f'    <td><a name="{_html_escape(content)}">'
                               f"{_html_escape(short)}</a></td>\n")
                else:
                    out.append(_html_cell("td", content))
            out.append("  </tr>\n")
        out.append("</table>\n")
        return "".join(out)

    def _json(self, table: Table) -> str:
        obj: dict[str, Any] = {}
        if table.caption is not None:
            obj["caption"] = table.caption
        if table.timestamp:
            obj["time"] = format_timestamp(self.clock_ms())
        obj["headings"] = list(table.headings)
        obj["data"] = [[c.to_json() for c in row] for row in table.rows]
        return json_to_string(obj, pretty=self.style.pretty) + "\n"


def _csv_cell(content: str) -> str:
    if not any(c in content for c in '\n",'):
        return content
    return '"' + content.replace('"', '""') + '"'


_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _html_escape(text: str) -> str:
    return "".join(_HTML_ESCAPES.get(c, c) for c in text)


def _html_cell(element: str, content: str) -> str:
    # Every UUID in the text links to the row it names (its first 8 digits shown).
    parts: list[str] = [f"    <{element}>"]
    i = 0
    n = len(content)
    while i < n:
        if content[i] in "0123456789abcdefABCDEF" and uuid_from_string(content[i:i + 36]):
            parts.append(f'<a href="#{content[i:i + 36]}">{content[i:i + 8]}</a>')
            i += 36
        else:
            parts.append(_HTML_ESCAPES.get(content[i], content[i]))
            i += 1
    parts.append(f"</{element}>\n")
    return "".join(parts)


# --- JSON as OVS prints it ------------------------------------------------------

def json_to_string(value: Any, *, sort_keys: bool = True, pretty: bool = False) -> str:
    """OVS's ``json_to_string`` (``JSSF_SORT`` unless ``sort_keys`` is False).

    Strings escape only ``"``, ``\\`` and control characters; non-ASCII stays
    raw.  Reals are ``%.15g``.  Without ``sort_keys`` members keep dict order.
    """
    out: list[str] = []
    _serialize(value, out, 0, sort_keys, pretty)
    return "".join(out)


def _indent(out: list[str], depth: int, pretty: bool) -> None:
    if pretty:
        out.append("\n" + "  " * depth)


def _serialize(value: Any, out: list[str], depth: int, sort_keys: bool, pretty: bool) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(f"{value:.15g}")
    elif isinstance(value, dict):
        out.append("{")
        depth += 1
        _indent(out, depth, pretty)
        keys = sorted(value) if sort_keys else list(value)
        for i, key in enumerate(keys):
            if i:
                out.append(",")
                _indent(out, depth, pretty)
            out.append(encode_basestring(str(key)))
            out.append(": " if pretty else ":")
            _serialize(value[key], out, depth, sort_keys, pretty)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        if value:
            _indent(out, depth + 1, pretty)
            for i, item in enumerate(value):
                if i:
                    out.append(",")
                    _indent(out, depth + 1, pretty)
                _serialize(item, out, depth + 1, sort_keys, pretty)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
