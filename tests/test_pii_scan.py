"""The personal-data patterns: what they catch, what they leave alone, and that nothing they
report carries the value."""
from __future__ import annotations

import time

import pytest

from complaints.errors import PublicationError
from complaints.pii import (
    CARD,
    EMAIL,
    LANDLINE,
    MOBILE,
    RESIDENT_ID,
    check_publishable,
    check_text_publishable,
    luhn_valid,
    resident_id_valid,
    scan_data,
    scan_text,
)

# 11010519491231002X is the specimen id of GB 11643: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
# over 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 give 167; 167 mod 11 = 2 -> check character 'X'.
VALID_ID = "11010519491231002X"


def kinds(text: str) -> set[str]:
    return {f.kind for f in scan_text(text)}


@pytest.mark.parametrize(
    "text, kind",
    [
        (f"身份证号{VALID_ID}。", RESIDENT_ID),
        ("身份证 110105 19491231 002x", RESIDENT_ID),
        ("旧证 110105491231002", RESIDENT_ID),
        ("电话13812345678", MOBILE),
        ("tel 138 1234 5678", MOBILE),
        ("138-1234-5678", MOBILE),
        ("+86 139 1234 5678", MOBILE),
        ("0086-15012345678", MOBILE),
        ("手机：１３８１２３４５６７８", MOBILE),  # full-width digits
        ("手机：１３８－１２３４－５６７８", MOBILE),  # full-width dashes
        ("办公室 010-12345678", LANDLINE),
        ("（0755）8765 4321", LANDLINE),
        ("0571-8888888 转 123", LANDLINE),
        ("mail someone.name+tag@example.com.cn now", EMAIL),
        ("ｓｏｍｅｏｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", EMAIL),
        ("卡号 4111 1111 1111 1111", CARD),
        ("卡号6222020200112233440", CARD if luhn_valid("6222020200112233440") else "none"),
        ("card 4111-1111-1111-1111", CARD),
    ],
)
def test_patterns_are_found(text: str, kind: str) -> None:
    if kind == "none":
        assert CARD not in kinds(text)
    else:
        assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "示例：营业执照变更申请提交后十个工作日无人答复。",
        "XN-20260305-7K3QH",
        "2026-03-05 至 2026-04-20",
        "受理编号 20260305 第 3 号",
        "110105194912310021",  # wrong check digit
        "4111 1111 1111 1112",  # fails Luhn
        "12345678901",  # 11 digits but not 1[3-9]
        "a@b",  # no domain
        "pbkdf2-sha256$200000$" + "ab" * 32,
    ],
)
def test_harmless_text_is_left_alone(text: str) -> None:
    assert scan_text(text) == []


def test_check_digit_and_luhn() -> None:
    assert resident_id_valid(VALID_ID[:17], VALID_ID[17])
    assert not resident_id_valid(VALID_ID[:17], "1")
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_offsets_point_into_the_original_text() -> None:
    text = "请联系１３８１２３４５６７８谢谢"
    (finding,) = scan_text(text)
    assert finding.kind == MOBILE
    assert text[finding.start : finding.end] == "１３８１２３４５６７８"


def test_scan_data_names_paths_not_values() -> None:
    data = {"a": ["ok", {"b": "call 13812345678"}], "c": {"x@example.com": 1}, "n": 13812345678}
    found = list(scan_data(data))
    assert ("$.a[1].b", MOBILE) in found
    assert any(kind == EMAIL and path.startswith("$.c") for path, kind in found)
    assert all("13812345678" not in path for path, _ in found)
    assert len(found) == 2  # numbers are not text


def test_skip_and_allow() -> None:
    data = {"commit": "13812345678", "label": "热线 010-12345678"}
    assert list(scan_data(data, skip=frozenset({"$.commit"}), allow=frozenset({"010-12345678"}))) == []


def test_publication_error_names_source_and_field_but_not_value() -> None:
    with pytest.raises(PublicationError) as exc:
        check_publishable({"metrics": [{"label": {"zh": "投诉人 13812345678"}}]}, "stats 2026 (json)")
    message = str(exc.value)
    assert "stats 2026 (json)::$.metrics[0].label.zh" in message
    assert "mobile" in message
    assert "13812345678" not in message and "5678" not in message
    with pytest.raises(PublicationError) as exc2:
        check_text_publishable("a,b\nx,someone@example.com\n", "out.csv", "csv")
    assert "out.csv:2" in str(exc2.value) and "example.com" not in str(exc2.value)


def test_cheap_prefilter_keeps_the_common_case_fast() -> None:
    text = "示例：窗口工作人员态度生硬，拖延三天未办理，请求督促。" * 20
    start = time.perf_counter()
    for _ in range(2000):
        assert scan_text(text) == []
    assert time.perf_counter() - start < 1.0
