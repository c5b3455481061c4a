"""The personal-data patterns: what they catch, what they leave alone, and that nothing they
report carries the value."""
from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from complaints.errors import PublicationError
from complaints.core.pii import (
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


# What people actually type: each of these passed `validate` in a summary before the text was
# normalised (invisible characters dropped, any decimal digit, any run of separators).
TYPED = [
    ("138\u200b1234\u200b5678", MOBILE),  # zero-width spaces
    ("138\u200c1234\u2060 5678", MOBILE),  # zero-width non-joiner, word joiner
    ("138\ufeff1234\u00ad5678", MOBILE),  # BOM, soft hyphen
    ("138.1234.5678", MOBILE),
    ("138/1234/5678", MOBILE),
    ("138\u20101234\u20115678", MOBILE),  # hyphen, non-breaking hyphen
    ("138\u20121234\u20135678", MOBILE),  # figure dash, en dash
    ("138\u20141234\u20155678", MOBILE),  # em dash, horizontal bar
    ("138\u00a01234\u00a05678", MOBILE),  # NBSP
    ("138\u30001234\u30005678", MOBILE),  # ideographic space
    ("138\t1234\t5678", MOBILE),
    ("电话 138 - 1234 - 5678", MOBILE),
    ("8613912345678", MOBILE),
    ("86 139 1234 5678", MOBILE),
    ("+8613912345678", MOBILE),
    ("008613912345678", MOBILE),
    ("请拨\n138\n1234\n5678\n联系", MOBILE),  # split across lines
    ("请拨138\r\n12345678", MOBILE),
    ("\u0661\u0663\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", MOBILE),  # Arabic-Indic
    ("\u06f1\u06f3\u06f8\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8", MOBILE),  # Extended Arabic-Indic
    ("\u0967\u0969\u096e\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e", MOBILE),  # Devanagari
    ("1\ufe0f\u20e33\ufe0f\u20e38\ufe0f\u20e31\ufe0f\u20e32\ufe0f\u20e33\ufe0f\u20e34\ufe0f\u20e35\ufe0f\u20e36\ufe0f\u20e37\ufe0f\u20e38\ufe0f\u20e3", MOBILE),  # keycaps
    ("138\ufe001234\U000e01005678", MOBILE),  # variation selectors
    ("张三@example.com", EMAIL),
    ("联系邮箱：李四.wang@example.com.cn。", EMAIL),
    ("user@例子.中国", EMAIL),
    ("user@xn--fsqu00a.xn--fiqs8s", EMAIL),
    ("用户＠例子．公司", EMAIL),
    ("4111.1111.1111.1111", CARD),
    ("4111/1111/1111/1111", CARD),
    ("4111\u200b1111\u200b1111\u200b1111", CARD),
    ("卡号 6222 0202\n0011 2233 440" if luhn_valid("6222020200112233440") else "卡号 4111 1111\n1111 1111", CARD),
    ("3782 822463 10005", CARD),  # American Express grouping
    (f"{VALID_ID[:6]}\u200b{VALID_ID[6:]}", RESIDENT_ID),  # split by a zero-width space
    (f"{VALID_ID[:6]}.{VALID_ID[6:14]}.{VALID_ID[14:]}", RESIDENT_ID),
    (f"身份证\n{VALID_ID[:9]}\n{VALID_ID[9:]}", RESIDENT_ID),
    ("".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in VALID_ID), RESIDENT_ID),
    ("办公室 010.1234.5678", LANDLINE),
    ("1 3 8 1 2 3 4 5 6 7 8", MOBILE),  # typed digit by digit
    ("+86 138 1234 5678", MOBILE),
    (f"{VALID_ID[:6]} {VALID_ID[6:10]} {VALID_ID[10:14]} {VALID_ID[14:]}", RESIDENT_ID),
    ("0755\u20138765\u20134321", LANDLINE),
]


@pytest.mark.parametrize("text, kind", TYPED)
def test_what_people_type_is_caught(text: str, kind: str) -> None:
    assert kind in kinds(text)
    for finding in scan_text(text):
        assert 0 <= finding.start < finding.end <= len(text)


def test_every_decimal_digit_counts() -> None:
    # Every script's zero to nine (str.isdecimal): a mobile number written in each is found.
    import sys
    import unicodedata

    zeros = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c)) == 0]
    assert len(zeros) > 50
    for zero in zeros:
        text = "".join(chr(ord(zero) + int(d)) for d in "13812345678")
        assert MOBILE in kinds(text), f"U+{ord(zero):04X}"


def test_a_number_ending_in_invisible_characters_is_located_exactly() -> None:
    text = "请联系 138\u200b1234\u200b5678\u200b 谢谢"
    (finding,) = scan_text(text)
    assert text[finding.start : finding.end] == "138\u200b1234\u200b5678"


from conftest import TEST_DATA
PROSE = TEST_DATA / "pii" / "prose.txt"


def prose() -> list[str]:
    paragraphs = PROSE.read_text(encoding="utf-8").split("\n\n")
    return [p for p in paragraphs if p.strip() and not p.lstrip().startswith("#")]


def test_the_prose_corpus_is_substantial() -> None:
    texts = prose()
    assert len(texts) >= 40
    # It exercises what makes false positives: many digits, separators, document numbers.
    assert sum(1 for t in texts if sum(map(str.isdigit, t)) >= 7) >= 30
    assert any("〔2024〕" in t for t in texts) and any("pbkdf2-sha256$" in t for t in texts)


@pytest.mark.parametrize("text", prose(), ids=lambda t: t[:20])
def test_ordinary_complaint_prose_has_no_finding(text: str) -> None:
    assert [(f.kind, text[f.start : f.end]) for f in scan_text(text)] == []


def test_the_whole_corpus_at_once_has_no_finding() -> None:
    # Joined, paragraphs meet at newlines; numbers must not run on from one to the next.
    assert scan_text("\n".join(prose())) == []
    assert scan_text("\n\n".join(prose())) == []


@pytest.mark.parametrize(
    "text",
    [
        "金额 13812345678.50 元",  # an amount with decimals, not a phone
        "IP 10.13.812.345.678",  # dotted numbers
        "hash 3f9a13812345678e" + "0abc" * 10,  # digits inside a hex token
        "2026-03-05 2026-04-20 2026-05-06",  # dates in a row
        "时间戳 20260305143012",
        "\n".join(str(v) for v in range(0, 400, 7)),  # chart ticks, one per line
        "\n".join(f"{v / 3:.1f}" for v in range(100, 900, 13)),  # decimals, one per line
        'x="368.852260111023" y="185.0" 12.5 130.25 1381.5 1234.5',  # coordinates
        "\n".join(["2026-01", "2026-02", "2026-03", "12", "13", "14", "15"]),
    ],
)
def test_phone_like_numbers_that_are_not_phones(text: str) -> None:
    assert scan_text(text) == []


def test_allow_compares_normalised_numbers() -> None:
    # The organisation's hotline is allowed however it is written.
    data = {"a": "热线 0571 8888 8888", "b": "热线 0571-88888888"}
    assert list(scan_data(data, allow=frozenset({"0571-8888 8888"}))) == []


@pytest.mark.parametrize("unit", ["count 12 of 345; ", "共计十二件，办结三件。", "ｆｕｌｌ　ｗｉｄｔｈ　１２；"])
def test_a_long_text_is_scanned_without_an_object_per_character(unit: str) -> None:
    """A generated page of a million characters (a statistics table over many years) is
    scanned with a few bytes a character of bookkeeping: the offsets are a range or a packed
    array, not a list of a million numbers (36 MB)."""
    text = unit * (1_000_000 // len(unit))
    tracemalloc.start()
    try:
        found = scan_text(text + " 13912345678")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [finding.kind for finding in found] == [MOBILE]
    assert peak < 12 * len(text)  # a list of offsets alone took 36 bytes a character


def test_offsets_refer_to_the_original_text_across_the_slices() -> None:
    """A text longer than one normalisation slice, with characters NFKC makes longer (㍱, ﬁ)
    or removes (a zero-width space) before a number: each finding's span is where the
    number is in the text as written."""
    number = "13912345678"
    filler = "㍱ﬁ\u200b办理" * 20_000  # 100,000 characters, some 3 long once normalised, some gone
    for cut in (0, 65_530, 65_536, len(filler) - 1):
        text = filler[:cut] + "电话" + "１３９１２３４５６７８" + filler[cut:cut + 50]
        found = [f for f in scan_text(text) if f.kind == MOBILE]
        assert len(found) == 1
        start = cut + 2
        assert (found[0].start, found[0].end) == (start, start + len(number))


def _normalised_a_character_at_a_time(text: str) -> tuple[str, list[int]]:
    """What pii._normalise gives, character by character (the reference its runs must equal)."""
    from complaints.core import pii

    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        norm = ch if ch.isascii() else pii._map_char(ch)
        out.append(norm)
        origin.extend([i] * len(norm))
    origin.append(len(text))
    return "".join(out), origin


_ALPHABET = (
    "abc 0123456789-@.", "（）：，。；！？－＠．", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "\u200b\u200d\u2060\ufeff\u00ad",
    "中文投诉处理电话", "ﬁ①②㈠㍻", "e\u0301", "\U0001d7d9\U0001d7da",
)


@pytest.mark.parametrize("seed", range(40))
def test_normalising_in_runs_equals_a_character_at_a_time(seed: int) -> None:
    import random

    from complaints.core import pii

    rng = random.Random(seed)
    pool = "".join(_ALPHABET)
    for _ in range(25):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 120)))
        norm, origin = pii._normalise(text)
        want, want_origin = _normalised_a_character_at_a_time(text)
        assert norm == want
        assert list(origin) == want_origin


def test_a_page_of_chinese_text_is_scanned_as_before() -> None:
    # Full-width punctuation and digits are normalised where they stand (one character for
    # one, the offsets a range), and with a zero-width space (none for one, the offsets
    # counted): a number written with them is found at its place in the original text.
    unit = "办结情况：（共计）。联系人手机：１３８１２３４５６７８，谢谢！"
    text = unit * 40
    found = scan_text(text)
    assert [(f.kind, text[f.start:f.end]) for f in found] == [(MOBILE, "１３８１２３４５６７８")] * 40
    hidden = "说明：\u200b手机１３８\u200b１２３４５６７８。" * 3
    found = scan_text(hidden)
    assert [(f.kind, hidden[f.start:f.end]) for f in found] == [(MOBILE, "１３８\u200b１２３４５６７８")] * 3
