"""The QMP JSON stream parser against what QEMU 7.2 was observed to do."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyqemu.qapi import json_parser
from pyqemu.qapi.json_lexer import MAX_TOKEN_SIZE
from pyqemu.qapi.json_parser import JsonParseError, JsonStreamParser
from pyqemu.qapi.request import parse_request
from pyqemu.util.errors import ErrorClass, QemuError


class E:
    """An expected parse error."""

    def __init__(self, what: str):
        self.desc = what if what.startswith("JSON ") else "JSON parse error, " + what

    def __repr__(self) -> str:
        return f"E({self.desc!r})"


QS = {"execute": "query-status"}
QS_BYTES = b'{"execute":"query-status"}'
EXPECTING = E("expecting value")
STRAY_BAD = E("stray '\ufffd'")

# (input, results) -- each observed on QEMU 7.2 (see test_matches_reference_qemu).
CASES: list[tuple[bytes, list[Any]]] = [
    # values, and when they end
    (b"1 ", [1]),
    (b"1", []),
    (b"-1 ", [-1]),
    (b'"abc"', ["abc"]),
    (b"'abc'", ["abc"]),
    (b"true ", [True]),
    (b"null ", [None]),
    (b"{}", [{}]),
    (b"[]", [[]]),
    (b"[[[", []),
    (b'"abc', []),
    (b"\r\n", []),
    (b'{"execute":"query-status","id":{"x":[1,2]}}', [{**QS, "id": {"x": [1, 2]}}]),
    (QS_BYTES + QS_BYTES, [QS, QS]),
    (QS_BYTES + b" x " + QS_BYTES, [QS, E("invalid keyword 'x'"), QS]),
    # keywords and stray characters
    (b"tru ", [E("invalid keyword 'tru'")]),
    (b"True", [E("stray 'T'")]),
    (b"@", [E("stray '@'")]),
    (b"abc" + QS_BYTES, [E("invalid keyword 'abc'"), QS]),
    (b"x\n" + QS_BYTES, [E("invalid keyword 'x'"), QS]),
    (b"x\t" + QS_BYTES, [E("invalid keyword 'x'"), QS]),
    (b"#" + QS_BYTES, [E("stray '#'"), QS]),
    (b"\x01", [E("stray '\x01'")]),
    # structure
    (b"}", [EXPECTING]),
    (b"]", [EXPECTING]),
    (b"{]", [EXPECTING]),
    (b"[}", [EXPECTING]),
    (b",", [EXPECTING]),
    (b":", [EXPECTING]),
    (b'{"a" 1}', [E("missing : in object pair")]),
    (b'{"a":}', [EXPECTING]),
    (b"{1:2}", [E("key is not a string in object")]),
    (b'{"a":1 "b":2}', [E("expected separator in dict")]),
    (b"[1 2]", [E("expected separator in list")]),
    (b"[1,]", [EXPECTING]),
    (b'{"a":1,}', [EXPECTING]),
    (b"[,]", [EXPECTING]),
    (b'{"a":1,"a":2}', [E("duplicate key")]),
    # interpolation is off on a monitor: '%' is stray, recovery skips to a resync byte
    (b"%", [E("stray '%'")]),
    (b"%d", [E("stray '%'")]),
    (b'{"a":%d}', [E("stray '%'"), EXPECTING]),
    (b'"%d"', ["%d"]),
    # bytes that are never UTF-8; recovery
    (b"\xff", [STRAY_BAD]),
    (b"\xfe", [STRAY_BAD]),
    (b"\xc3\xa9", [STRAY_BAD]),
    (b"\xff" + QS_BYTES, [STRAY_BAD, QS]),
    (b'{"a":\xff}', [STRAY_BAD, EXPECTING]),
    (b'{"a":1\xff}', [STRAY_BAD, EXPECTING]),
    (b'{"a"\x01:1}', [E("stray '\x01'"), EXPECTING, 1, EXPECTING]),
    # strings
    (b'"ab\x01cd"', [E("stray '\"ab\x01'")]),
    (b'"ab\ncd"', [E("stray '\"ab\n'")]),
    (b'"ab\tcd"', [E("stray '\"ab\t'")]),
    (b'"ab\x00cd"', [E("stray '\"ab'")]),
    (b'"ab\xffcd"\n', [E("stray '\"ab\ufffd'")]),
    (b'"ab\xc3\xa9cd"', ["ab\u00e9cd"]),
    (b'"ab\xc3cd"', [E("invalid UTF-8 sequence in string")]),
    (b'"ab\xe9cd"', [E("invalid UTF-8 sequence in string")]),
    (b'"a\xc0\x80b"', ["a\x00b"]),  # modified UTF-8 NUL
    (b'"a\xef\xbf\xbeb"', [E("invalid UTF-8 sequence in string")]),  # U+FFFE
    (b'"a\xe0\x80\x80b"', [E("invalid UTF-8 sequence in string")]),  # overlong
    (b'"\xed\xa0\x80"', [E("invalid UTF-8 sequence in string")]),  # surrogate
    (b'"\xf4\x90\x80\x80"', [E("invalid UTF-8 sequence in string")]),  # > U+10FFFF
    (b"'abc\"'", ['abc"']),
    (b"\"a'b\"", ["a'b"]),
    (b"'a\\'b'", ["a'b"]),
    (b'"\\\'"', ["'"]),
    (b'"\\x"', [E("invalid escape sequence in string")]),
    (b'"\\a"', [E("invalid escape sequence in string")]),
    (b'"\\u00e9"', ["\u00e9"]),
    (b'"\\u0000"', ["\x00"]),
    (b'"\\ud800\\udc00"', ["\U00010000"]),
    (b'"\\ud800"', [E("\\ud800 is not a valid Unicode character")]),
    (b'"\\ud800x"', [E("\\ud800 is not a valid Unicode character")]),
    (b'"\\udc00"', [E("\\udc00 is not a valid Unicode character")]),
    (b'"\\ud800\\u0041"', [E("\\ud800 is not a valid Unicode character")]),
    (b'"\\ufffe"', [E("\\ufffe is not a valid Unicode character")]),
    (b'"\\ufdd0"', [E("\\ufdd0 is not a valid Unicode character")]),
    (b'"\\ud83f\\udffe"', [E("\\ud83f\\udffe is not a valid Unicode character")]),
    (b'"\\u12"', [E('\\u12" is not a valid Unicode character')]),
    (b'"\\u"', [E('\\u" is not a valid Unicode character')]),
    (b'"\\uzzzz"', [E("\\uzzzz is not a valid Unicode character")]),
    (b'"\\u12\xc3\xa9x"', [E("\\u12\u00e9 is not a valid Unicode character")]),
    # numbers
    (b"01 ", [E("stray '01'")]),
    (b"-0 ", [0]),
    (b"- ", [E("stray '- '")]),
    (b"-01 ", [E("stray '-01'")]),
    (b"1. ", [E("stray '1. '")]),
    (b"1.5 ", [1.5]),
    (b"1e5 ", [100000.0]),
    (b"1E+2 ", [100.0]),
    (b"1e ", [E("stray '1e '")]),
    (b".5 ", [E("stray '.'")]),
    (b"+1 ", [E("stray '+'")]),
    (b"0x10 ", [0, E("invalid keyword 'x'"), 10]),
]


def _results(parser: JsonStreamParser, chunks: list[bytes]) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


def _normalize(items: list[Any]) -> list[Any]:
    return [i.desc if isinstance(i, E | JsonParseError) else i for i in items]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_stream(data: bytes, expected: list[Any]) -> None:
    got = JsonStreamParser().feed(data)
    assert _normalize(got) == _normalize(expected)
    assert [type(v) for v in got if not isinstance(v, JsonParseError)] == [
        type(v) for v in expected if not isinstance(v, E)
    ]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_byte_by_byte_is_the_same(data: bytes, expected: list[Any]) -> None:
    got = _results(JsonStreamParser(), [data[i : i + 1] for i in range(len(data))])
    assert _normalize(got) == _normalize(expected)


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.sampled_from(range(len(CASES))), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_any_split_gives_the_same_messages(picks: list[int], cuts: list[int]) -> None:
    # A newline between cases brings the stream back to a known state.
    stream = b"\n".join(CASES[i][0] for i in picks) + b"\n"
    whole = _normalize(JsonStreamParser().feed(stream))
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    assert _normalize(_results(JsonStreamParser(), chunks)) == whole


def test_errors_are_generic_monitor_errors() -> None:
    (err,) = JsonStreamParser().feed(b"%")
    assert isinstance(err, QemuError)
    assert err.qmp_error() == {"class": ErrorClass.GENERIC_ERROR, "desc": "JSON parse error, stray '%'"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"9223372036854775807 ", 9223372036854775807),
        (b"-9223372036854775808 ", -9223372036854775808),
        (b"9223372036854775808 ", 9223372036854775808),  # uint64
        (b"18446744073709551615 ", 18446744073709551615),
        (b"18446744073709551616 ", 18446744073709551616.0),  # beyond: a double
        (b"-9223372036854775809 ", -9223372036854775809.0),
        (b"1" * 400 + b" ", float("1" * 400)),
        (b"1e999 ", float("inf")),
        (b"1.0 ", 1.0),
    ],
)
def test_numbers_are_qnums(text: bytes, value: int | float) -> None:
    (got,) = JsonStreamParser().feed(text)
    assert got == value and type(got) is type(value)


def test_flush_ends_pending_tokens() -> None:
    parser = JsonStreamParser()
    assert parser.feed(b"12") == []
    assert parser.flush() == [12]
    assert parser.feed(b"[1, 2") == []
    assert _normalize(parser.flush()) == ["JSON parse error, premature EOI"]
    assert parser.feed(b'[1, "ab') == []
    # the lexical error drops the tokens before it: nothing is left to parse
    assert _normalize(parser.flush()) == ["JSON parse error, stray '\"ab'"]
    assert parser.flush() == []


def test_nesting_limit() -> None:
    deepest = JsonStreamParser().feed(b"[" * 1024 + b"]" * 1024)
    assert len(deepest) == 1 and isinstance(deepest[0], list)
    # QEMU: one error at the 1025th bracket, then each ']' is a message of its own.
    too_deep = _normalize(JsonStreamParser().feed(b"[" * 1025 + b"]" * 1025))
    assert too_deep == ["JSON nesting depth limit exceeded"] + [EXPECTING.desc] * 1025


def test_nesting_limit_counts_braces_and_brackets() -> None:
    got = _normalize(JsonStreamParser().feed(b'[{"a":' * 512 + b"[1]" + b"}]" * 512))
    assert got[:2] == ["JSON nesting depth limit exceeded", 1]
    assert got[2:] == [EXPECTING.desc] * 1025  # the ']' after 1, then every '}' and ']'


def test_token_count_limit() -> None:
    parser = JsonStreamParser()
    parser.max_token_count = 7
    assert parser.feed(b"[1,2,3]") == [[1, 2, 3]]  # 7 tokens
    # the 8th token ('4') is one too many; the ']' after it is read afresh
    assert _normalize(parser.feed(b"[1,2,3,4]")) == [
        "JSON token count limit exceeded", EXPECTING.desc,
    ]
    assert json_parser.MAX_TOKEN_COUNT == 2 << 20


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (-3, ["a" * (MAX_TOKEN_SIZE - 3), QS]),  # a token of 64 MiB - 1 bytes is fine
        (-2, ["JSON token size limit exceeded", QS]),
        # a string longer than the limit is cut; the rest is read as new input
        (0, ["JSON token size limit exceeded", "{", "JSON parse error, invalid keyword 'execute'",
             ":", "JSON parse error, invalid keyword 'query'", "JSON parse error, stray '-s'",
             EXPECTING.desc]),
    ],
)
def test_token_size_limit(extra: int, expected: list[Any]) -> None:
    data = b'"' + b"a" * (MAX_TOKEN_SIZE + extra) + b'"' + QS_BYTES
    assert _normalize(JsonStreamParser().feed(data)) == expected


def _as_qemu_replies(expected: list[Any]) -> list[str]:
    """What QEMU answers to each expected message."""
    replies = []
    for item in expected:
        if isinstance(item, E):
            replies.append(item.desc)
            continue
        try:
            request = parse_request(item)
        except QemuError as err:
            replies.append(err.desc)
            continue
        assert request.command == "query-status"
        replies.append("OK")
    return replies


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_matches_reference_qemu(reference_qemu: Any, data: bytes, expected: list[Any]) -> None:
    replies = _as_qemu_replies(expected)
    assert reference_qemu.texts(data, expect=len(replies)) == replies
