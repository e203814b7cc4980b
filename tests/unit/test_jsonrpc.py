"""JSON-RPC framing and message validation (pyovs.ovsdb.jsonrpc)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.ovsdb.jsonrpc import (
    MAX_DEPTH,
    JsonRpcError,
    JsonRpcProtocolError,
    JsonRpcStream,
    Message,
    MessageKind,
    encode_message,
)


def feed(stream: JsonRpcStream, data: bytes, chunk: int | None = None) -> list[Message]:
    """Feed ``data`` in chunks of ``chunk`` bytes; return every message produced."""
    out: list[Message] = []
    step = chunk or max(len(data), 1)
    for i in range(0, len(data), step):
        stream.receive_data(data[i:i + step])
        while (msg := stream.next_message()) is not None:
            out.append(msg)
    return out


# -- the wire shape ---------------------------------------------------------

GOLDEN = [
    (Message.request("echo", [], 0), b'{"method":"echo","params":[],"id":0}'),
    (Message.request("transact", ["Open_vSwitch", {"op": "comment", "comment": "h\u00e9"}],
                     "x"),
     '{"method":"transact","params":["Open_vSwitch",{"op":"comment","comment":"h\u00e9"}],'
     '"id":"x"}'.encode()),
    (Message.notify("update", [None, {"t": {}}]),
     b'{"method":"update","params":[null,{"t":{}}],"id":null}'),
    (Message.reply("text\n", 5), b'{"id":5,"result":"text\\n","error":null}'),
    (Message.error_reply({"error": "unknown method"}, [1, 2]),
     b'{"id":[1,2],"result":null,"error":{"error":"unknown method"}}'),
]


@pytest.mark.parametrize(("msg", "wire"), GOLDEN)
def test_golden_wire_both_ways(msg: Message, wire: bytes) -> None:
    assert encode_message(msg) == wire
    assert JsonRpcStream().send(msg) == wire
    assert feed(JsonRpcStream(), wire) == [msg]


def test_kinds() -> None:
    assert [m.kind for m, _ in GOLDEN] == [MessageKind.REQUEST, MessageKind.REQUEST,
                                           MessageKind.NOTIFY, MessageKind.REPLY,
                                           MessageKind.ERROR]


@pytest.mark.parametrize(("obj", "error"), [
    ([], "message is not a JSON object"),
    ("x", "message is not a JSON object"),
    ({"method": 1, "params": [], "id": 1}, "method is not a JSON string"),
    ({"method": "m", "params": [], "id": 1, "extra": 1},
     'message has unexpected member "extra"'),
    ({"method": "m", "params": {}, "id": 1}, '"params" must be JSON array'),
    ({"method": "m", "id": 1}, 'request must have "params"'),
    ({"params": [], "id": 1}, 'request must have "method"'),
    ({"method": "m"}, 'notification must have "params"'),
    ({"id": 1, "result": 1, "error": 2}, 'reply must not have "error"'),
    ({"id": 1, "result": 1, "method": "m"}, 'reply must not have "method"'),
    ({"result": 1}, 'reply must have "id"'),
    ({"error": "e"}, 'error must have "id"'),
    ({"id": 1, "error": "e", "params": []}, 'error must not have "params"'),
    # A null result is "absent" (as in OVS): this is a request without method.
    ({"id": 1, "result": None, "error": None}, 'request must have "method"'),
    ({}, 'notification must have "method"'),
])
def test_from_json_errors_match_ovs(obj: Any, error: str) -> None:
    with pytest.raises(JsonRpcError) as e:
        Message.from_json(obj)
    assert str(e.value) == error


def test_null_members_count_as_absent() -> None:
    msg = Message.from_json({"method": "update", "params": [1], "id": None,
                             "result": None, "error": None})
    assert msg == Message.notify("update", [1])


def test_constructors_refuse_what_ovs_could_not_parse() -> None:
    with pytest.raises(JsonRpcError, match='reply must have "result"'):
        Message.reply(None, 1)
    with pytest.raises(JsonRpcError, match='error must have "error"'):
        Message.error_reply(None, 1)
    with pytest.raises(JsonRpcError, match='request must have "id"'):
        Message.request("echo", [], None)
    with pytest.raises(JsonRpcError, match='"params" must be JSON array'):
        Message.request("echo", {}, 1)  # type: ignore[arg-type]


def test_encode_refuses_nan() -> None:
    with pytest.raises(JsonRpcError):
        encode_message(Message.reply([float("nan")], 1))


# -- framing -----------------------------------------------------------------

TRICKY = [
    Message.request("transact", ["db", {"row": {"s": 'x{y}[z]"q"\\', "t": "\\"}}], 1),
    Message.request("echo", ["\\\"", "}", "]", "{", "[", "\u2603\U0001f600"], 2),
    Message.notify("update2", [[], {"a": {"b": {"c": {"d": {"e": {"f": {"g": [[[]]]}}}}}}}]),
    Message.reply({"": "", "\\": "\\\\"}, 3),
    Message.error_reply("not a \"valid\" {command}", 4),
]


def test_byte_at_a_time() -> None:
    wire = b"".join(encode_message(m) for m in TRICKY)
    assert feed(JsonRpcStream(), wire, 1) == TRICKY


@pytest.mark.parametrize("split", range(1, 80))
def test_every_split_point_of_two_messages(split: int) -> None:
    wire = encode_message(TRICKY[0]) + b"\n" + encode_message(TRICKY[1])
    stream = JsonRpcStream()
    stream.receive_data(wire[:split])
    first = []
    while (m := stream.next_message()) is not None:
        first.append(m)
    stream.receive_data(wire[split:])
    while (m := stream.next_message()) is not None:
        first.append(m)
    assert first == TRICKY[:2]


def test_many_messages_in_one_chunk_with_whitespace() -> None:
    wire = b" \n".join(encode_message(m) for m in TRICKY) + b"\r\n\t "
    stream = JsonRpcStream()
    assert feed(stream, wire) == TRICKY
    assert stream.pending == 0


def test_arrays_frame_too_but_are_not_messages() -> None:
    stream = JsonRpcStream()
    stream.receive_data(b'[1, "]", {"a": [2]}]')
    with pytest.raises(JsonRpcProtocolError, match="message is not a JSON object"):
        stream.next_message()


def test_truncated_message_waits() -> None:
    wire = encode_message(TRICKY[0])
    stream = JsonRpcStream()
    for cut in (wire[:1], wire[1:-1]):
        stream.receive_data(cut)
        assert stream.next_message() is None
    assert stream.pending == len(wire) - 1
    stream.receive_data(wire[-1:])
    assert stream.next_message() == TRICKY[0]
    assert stream.pending == 0


def test_backslash_at_chunk_end() -> None:
    wire = b'{"method":"m","params":["a\\"}"],"id":1}'
    cut = wire.index(b"\\") + 1
    stream = JsonRpcStream()
    stream.receive_data(wire[:cut])
    assert stream.next_message() is None
    stream.receive_data(wire[cut:])
    assert stream.next_message() == Message.request("m", ['a"}'], 1)


def test_large_message_byte_at_a_time_is_linear() -> None:
    # Quadratic rescanning would need ~10^10 steps here and hit the timeout.
    rows = [{"name": f"n{i}", "ids": ["map", [["k", "v{"]]]} for i in range(4000)]
    wire = encode_message(Message.request("transact", rows, 1))
    assert len(wire) > 150_000
    assert feed(JsonRpcStream(), wire, 1)[0].params == rows


def test_large_message_in_chunks() -> None:
    rows = [{"op": "insert", "table": "T", "row": {"name": f"lsp-{i}",
             "addresses": ["set", [f"00:00:00:00:00:{i % 256:02x}"]],
             "external_ids": ["map", [["a", "b\"}"], ["c", "d"]]]}}
            for i in range(10000)]
    msg = Message.request("transact", ["DB", *rows], 9)
    wire = encode_message(msg)
    assert feed(JsonRpcStream(), wire, 65536) == [msg]


# -- errors ----------------------------------------------------------------

def expect_error(data: bytes, match: str, **kwargs: Any) -> JsonRpcStream:
    stream = JsonRpcStream(**kwargs)
    with pytest.raises(JsonRpcProtocolError, match=match):
        feed(stream, data)
    return stream


@pytest.mark.parametrize("data", [b"x", b'"str"', b"12", b"null", b" \n}", b"]"])
def test_garbage_at_start(data: bytes) -> None:
    expect_error(data, "syntax error at beginning of input")


def test_garbage_after_a_message() -> None:
    stream = JsonRpcStream()
    stream.receive_data(encode_message(TRICKY[0]) + b"garbage")
    assert stream.next_message() == TRICKY[0]
    with pytest.raises(JsonRpcProtocolError):
        stream.next_message()


@pytest.mark.parametrize("data", [
    b'{"method" "m"}', b'{"a":1,}', b"{]", b'{"a":NaN}', b'{"a":Infinity}',
    b'{"a":1e999}', b'{"a":"\x01"}', b"{'a':1}", b'{"a":tru}',
])
def test_invalid_json(data: bytes) -> None:
    expect_error(data, "invalid JSON")


def test_invalid_utf8() -> None:
    expect_error(b'{"method":"m","params":["\xff\xfe"],"id":1}', "invalid UTF-8")
    expect_error(b'{"method":"m","params":["\xc3"],"id":1}', "invalid UTF-8")


def test_lone_surrogate() -> None:
    expect_error(b'{"method":"m","params":["\\ud800"],"id":1}', "surrogate")
    expect_error(b'{"method":"m","params":[],"id":{"\\udc00":1}}', "surrogate")
    pair = b'{"method":"m","params":["\\ud83d\\ude00"],"id":1}'
    assert feed(JsonRpcStream(), pair)[0].params == ["\U0001f600"]


def test_bad_jsonrpc_message() -> None:
    expect_error(b'{"id":1}', 'received bad JSON-RPC message: request must have "method"')


def test_nesting_limit() -> None:
    expect_error(b'{"a":' + b"[" * (MAX_DEPTH + 10), "maximum nesting depth")


def test_oversized_complete_and_incomplete() -> None:
    big = encode_message(Message.request("m", ["x" * 200], 1))
    expect_error(big, "exceeds maximum size of 100 bytes", max_message_size=100)
    # An incomplete message is refused as soon as it crosses the limit.
    expect_error(big[:150], "exceeds maximum size", max_message_size=100)
    assert feed(JsonRpcStream(max_message_size=len(big)), big)[0].id == 1
    assert feed(JsonRpcStream(max_message_size=None), big)[0].id == 1


def test_stream_is_dead_after_an_error() -> None:
    stream = expect_error(b"garbage", "syntax error")
    assert stream.dead
    with pytest.raises(JsonRpcProtocolError):
        stream.next_message()
    with pytest.raises(JsonRpcProtocolError):
        stream.receive_data(encode_message(TRICKY[0]))


# -- fuzzing ---------------------------------------------------------------

# OVS's JSON has no NUL in strings, and no real with an integral value (it
# reads 1.0 as the integer 1), so the round trip is drawn from what OVS can
# carry; test_ovs_number_rules pins the conversions themselves.
ovs_text = st.text(alphabet=st.characters(blacklist_characters="\x00",
                                          blacklist_categories=("Cs",)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
    .filter(lambda x: not x.is_integer() and (x == 0 or abs(x) > 1e-300)) | ovs_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(ovs_text.filter(lambda t: len(t) <= 8), children, max_size=4),
    max_leaves=20,
)
non_null = json_values.filter(lambda v: v is not None)
messages = st.one_of(
    st.builds(Message.request, ovs_text, st.lists(json_values, max_size=4), non_null),
    st.builds(Message.notify, ovs_text, st.lists(json_values, max_size=4)),
    st.builds(Message.reply, non_null, non_null),
    st.builds(Message.error_reply, non_null, non_null),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(messages, max_size=5), st.lists(st.integers(1, 50), min_size=1),
       st.sampled_from([b"", b"\n", b" \r\n\t"]))
def test_fuzz_round_trip_any_split(msgs: list[Message], sizes: list[int],
                                   sep: bytes) -> None:
    wire = sep.join(encode_message(m) for m in msgs)
    stream = JsonRpcStream()
    got: list[Message] = []
    pos = 0
    i = 0
    while pos < len(wire):
        step = sizes[i % len(sizes)]
        stream.receive_data(wire[pos:pos + step])
        pos += step
        i += 1
        while (m := stream.next_message()) is not None:
            got.append(m)
    assert [json.dumps(m.to_json()) for m in got] == [json.dumps(m.to_json()) for m in msgs]


def _only_typed_errors(data: bytes, chunk: int) -> None:
    stream = JsonRpcStream(max_message_size=4096)
    with contextlib.suppress(JsonRpcProtocolError):
        feed(stream, data, chunk)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 20))
def test_fuzz_random_bytes(data: bytes, chunk: int) -> None:
    _only_typed_errors(data, chunk)


# Pieces that steer random input into the scanner's interesting states.
json_tokens = st.sampled_from([b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"d800", b":",
                               b",", b" ", b"1", b"null", b"a", b"\xff", b"\xc3",
                               b'"method"', b'"params"', b'"id"'])


@settings(max_examples=300, deadline=None)
@given(st.lists(json_tokens, max_size=60), st.integers(1, 20))
def test_fuzz_json_like_bytes(tokens: list[bytes], chunk: int) -> None:
    _only_typed_errors(b"{" + b"".join(tokens), chunk)


@settings(max_examples=300, deadline=None)
@given(messages, st.integers(0, 10_000), st.binary(min_size=1, max_size=3),
       st.integers(1, 20))
def test_fuzz_mutated_messages(msg: Message, where: int, junk: bytes, chunk: int) -> None:
    wire = encode_message(msg)
    at = where % (len(wire) + 1)
    _only_typed_errors(wire[:at] + junk + wire[at:], chunk)


def test_ovs_number_rules_and_nul() -> None:
    """Numbers and strings are read as OVS reads them."""
    stream = JsonRpcStream()
    stream.receive_data(b'{"method":"m","params":[1.0,1e2,9223372036854775808,-0.0,2.5],'
                        b'"id":1}')
    msg = stream.next_message()
    assert msg is not None and msg.params == [1, 100, 9.223372036854776e18, 0, 2.5]
    assert [type(p) for p in msg.params] == [int, int, float, int, float]
    expect_error(b'{"method":"m","params":["a\\u0000b"],"id":1}', "null bytes")
