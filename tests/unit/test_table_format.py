"""table_format: every output format and cell format, as OVS lib/table.c prints them.

The expected texts were produced by the real ovsdb-client 3.1 (dump and
monitor of the same data); the interop suite re-checks them against it live.
"""

from __future__ import annotations

import pytest

from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.schema import Type
from pyovs.ovsdb.table_format import (
    Cell,
    CellFormat,
    Table,
    TableFormat,
    TableFormatter,
    TableStyle,
    TableStyleError,
    format_timestamp,
    json_to_string,
)

UUID = "25533ef3-9b0c-42e5-8df8-9d2bbf542c0d"
STRING = Type.from_json("string")
MAP = Type.from_json({"key": "string", "value": "string", "min": 0, "max": "unlimited"})
UUID_T = Type.from_json("uuid")


def bridge_table() -> Table:
    t = Table(["_uuid", "name", "other_config"], caption="Bridge table")
    t.add_row([Cell.of_json(["uuid", UUID], UUID_T), Cell.of_json('br<&"1', STRING),
               Cell.of_json(["map", [["x", "a,b"]]], MAP)])
    return t


def fmt(table: Table, **style: object) -> str:
    return TableFormatter(TableStyle(**style)).format(table)  # type: ignore[arg-type]


def test_table_format_pads_and_underlines() -> None:
    assert fmt(bridge_table(), format=TableFormat.TABLE) == (
        "Bridge table\n"
        "_uuid                                name      other_config\n"
        "------------------------------------ --------- ------------\n"
        f'{UUID} "br<&\\"1" {{x="a,b"}}\n')


def test_list_format_labels_each_cell() -> None:
    assert fmt(bridge_table()) == (
        "Bridge table\n"
        f"_uuid               : {UUID}\n"
        'name                : "br<&\\"1"\n'
        'other_config        : {x="a,b"}\n')


def test_csv_quotes_only_cells_with_commas_quotes_or_newlines() -> None:
    assert fmt(bridge_table(), format=TableFormat.CSV) == (
        "Bridge table\n_uuid,name,other_config\n"
        f'{UUID},"""br<&\\""1""","{{x=""a,b""}}"\n')


def test_html_escapes_and_links_uuids() -> None:
    assert fmt(bridge_table(), format=TableFormat.HTML) == (
        "<table border=1>\n"
        "    <caption>Bridge table</caption>\n"
        "  <tr>\n    <th>_uuid</th>\n    <th>name</th>\n    <th>other_config</th>\n  </tr>\n"
        "  <tr>\n"
        f'    <td><a name="{UUID}">25533ef3</a></td>\n'
        "    <td>&quot;br&lt;&amp;\\&quot;1&quot;</td>\n"
        "    <td>{x=&quot;a,b&quot;}</td>\n"
        "  </tr>\n</table>\n")


def test_html_links_uuids_inside_other_cells() -> None:
    t = Table(["ports"])
    t.add_row([f"[{UUID}]"])
    out = fmt(t, format=TableFormat.HTML)
    assert f'<td>[<a href="#{UUID}">25533ef3</a>]</td>' in out


def test_json_format_keeps_cell_json_whatever_the_data_format() -> None:
    expected = ('{"caption":"Bridge table","data":[[["uuid","' + UUID + '"],"br<&\\"1",'
                '["map",[["x","a,b"]]]]],"headings":["_uuid","name","other_config"]}\n')
    assert fmt(bridge_table(), format=TableFormat.JSON) == expected
    assert fmt(bridge_table(), format=TableFormat.JSON, cell_format=CellFormat.BARE) == expected


def test_pretty_json_matches_ovs_layout() -> None:
    t = Table(["name", "other_config"], caption="Bridge table")
    t.add_row([Cell.of_json('br<&"1', STRING), Cell.of_json(["map", [["x", "a,b"]]], MAP)])
    assert fmt(t, format=TableFormat.JSON, pretty=True) == (
        '{\n  "caption": "Bridge table",\n  "data": [\n    [\n      "br<&\\"1",\n'
        '      [\n        "map",\n        [\n          [\n            "x",\n'
        '            "a,b"]]]]],\n  "headings": [\n    "name",\n    "other_config"]}\n')


def test_bare_is_list_without_headings_and_punctuation() -> None:
    style = TableStyle()
    assert style.apply_option("--bare", "")
    out = TableFormatter(style).format(bridge_table())
    assert out == f'Bridge table\n{UUID}\nbr<&"1\nx=a,b\n'


def test_data_json_prints_cells_as_sorted_json() -> None:
    out = fmt(bridge_table(), format=TableFormat.TABLE, cell_format=CellFormat.JSON,
              headings=False)
    assert out == (f'Bridge table\n["uuid","{UUID}"] "br<&\\"1" ["map",[["x","a,b"]]]\n')


def test_consecutive_tables_are_separated_by_a_blank_line() -> None:
    f = TableFormatter(TableStyle(format=TableFormat.TABLE))
    t = Table(["a"])
    t.add_row(["1"])
    assert f.format(t) == "a\n-\n1\n"
    assert f.format(t) == "\na\n-\n1\n"
    f.reset()
    assert f.format(t) == "a\n-\n1\n"


def test_trailing_blanks_are_trimmed_and_empty_cells_allowed() -> None:
    t = Table(["row", "action", "name"])
    t.add_row([UUID, "old"])
    t.add_row(["", "new", "br0"])
    assert fmt(t, format=TableFormat.TABLE) == (
        "row                                  action name\n"
        "------------------------------------ ------ ----\n"
        f"{UUID} old\n"
        "                                     new    br0\n")


def test_widths_count_utf8_bytes_like_strlen() -> None:
    t = Table(["n"])
    t.add_row(["é"])
    t.add_row(["ab"])
    # "é" is two bytes: the column is two wide, so "é" gets no padding.
    assert fmt(t, format=TableFormat.TABLE) == "n\n--\né\nab\n"


def test_max_column_width_truncates_cells_not_headings() -> None:
    t = Table(["name"])
    t.add_row(["abcdefgh"])
    style = TableStyle(format=TableFormat.TABLE)
    style.apply_option("--max-column-width", "5")
    assert TableFormatter(style).format(t) == "name\n-----\nabcde\n"


def test_cells_failing_their_constraints_fall_back_to_json() -> None:
    small = Type.from_json({"key": {"type": "integer", "maxInteger": 3}})
    assert Cell.of_json(5, small).to_text(CellFormat.STRING) == "5"
    enum = Type.from_json({"key": {"type": "string", "enum": ["set", ["a"]]}})
    assert Cell.of_json("b", enum).to_text(CellFormat.STRING) == '"b"'
    assert Cell.of_json("a", enum).to_text(CellFormat.STRING) == "a"
    # Without a type a cell is JSON (list-columns prints types that way).
    assert Cell.of_json({"key": "string", "min": 0}).to_text(CellFormat.STRING) == \
        '{"key":"string","min":0}'


def test_datum_cells_and_text_cells() -> None:
    d = Datum.map_of({"a": "b c", "k": "v"})
    assert Cell.of_datum(d, MAP).to_text(CellFormat.STRING) == '{a="b c", k=v}'
    assert Cell.of_datum(d, MAP).to_text(CellFormat.BARE) == "a=b c k=v"
    assert Cell.of_datum(d, MAP).to_json() == ["map", [["a", "b c"], ["k", "v"]]]
    assert Cell.of_text("[x]").to_text(CellFormat.JSON) == "[x]"
    assert Cell().to_text(CellFormat.STRING) == ""
    assert Cell().to_json() is None


def test_timestamp_is_printed_before_the_caption() -> None:
    t = Table(["a"], caption="cap", timestamp=True)
    t.add_row(["1"])
    f = TableFormatter(TableStyle(format=TableFormat.TABLE), clock_ms=lambda: 1795329902378)
    assert f.format(t) == "2026-11-22 06:45:02.378\ncap\na\n-\n1\n"
    fj = TableFormatter(TableStyle(format=TableFormat.JSON), clock_ms=lambda: 0)
    assert '"time":"1970-01-01 00:00:00.000"' in fj.format(t)


def test_style_option_errors_use_ovs_text() -> None:
    style = TableStyle()
    with pytest.raises(TableStyleError, match='unknown output format "xx"'):
        style.apply_option("--format", "xx")
    with pytest.raises(TableStyleError, match='unknown data format "yy"'):
        style.apply_option("-d", "yy")
    assert not style.apply_option("--timeout", "1")
    style.apply_option("-f", "csv")
    assert style.format is TableFormat.CSV


def test_rows_cannot_have_more_cells_than_columns() -> None:
    t = Table(["a"])
    with pytest.raises(ValueError):
        t.add_row(["1", "2"])
    t.add_row(["1"])
    with pytest.raises(ValueError):
        t.add_column("b")


@pytest.mark.parametrize(("value", "text"), [
    ({"b": 1, "a": [1.0, 2.5, 1e300]}, '{"a":[1,2.5,1e+300],"b":1}'),
    ("\x01\"\\/é\x7f", '"\\u0001\\"\\\\/é\x7f"'),
    ([], "[]"),
    ({}, "{}"),
    ([True, None, False], "[true,null,false]"),
])
def test_json_to_string_is_ovs_serializer(value: object, text: str) -> None:
    assert json_to_string(value) == text


def test_pretty_empty_containers() -> None:
    assert json_to_string({"a": {}, "b": []}, pretty=True) == \
        '{\n  "a": {\n    },\n  "b": []}'


def test_format_timestamp_is_utc_with_milliseconds() -> None:
    assert format_timestamp(1_000) == "1970-01-01 00:00:01.000"
    assert format_timestamp(86_400_123) == "1970-01-02 00:00:00.123"
