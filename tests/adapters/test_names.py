"""adapters/names.FileNames, the compact listing, is the list of str it stands for: the same
names in the same order by index, slice, iteration and membership, whatever the names hold;
and Repository.case_files lists a folder tree in exactly the order sorting every path gives."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints.adapters.names import FileNames, NamesBuilder
from complaints.adapters.repository import Repository

# Names as the listing makes them: any text without NUL, surrogate escapes included.
NAME = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)) | st.sampled_from(["\udc80", "\udcff", "/", "é", "名"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(NAME, max_size=40), st.integers(-50, 50), st.integers(-50, 50), st.integers(-3, 3).filter(bool))
def test_file_names_behave_as_the_sorted_list(names: list[str], start: int, stop: int, step: int) -> None:
    expected = sorted(set(names))
    held = FileNames.of(names)
    assert len(held) == len(expected)
    assert list(held) == expected and held == expected and held == tuple(expected)
    for i in range(-len(expected), len(expected)):
        assert held[i] == expected[i]
    for i in (len(expected), -len(expected) - 1):
        with pytest.raises(IndexError):
            held[i]
    assert held[start:stop] == expected[start:stop]
    assert held[start:stop:step] == expected[start:stop:step]
    for name in [*expected, "", "absent", "\udc80x"]:
        assert (name in held) == (name in expected)
    assert 3 not in held
    # Each name's bytes as held, NUL after each, in order: what is compared with git's listing.
    assert held.joined(0, len(held)) == b"".join(n.encode("utf-8", "surrogatepass") + b"\x00" for n in expected)
    if len(expected) > 2:
        assert held.joined(1, 2) == expected[1].encode("utf-8", "surrogatepass") + b"\x00"
    ending = [n for n in expected if n.endswith(".yml")]
    assert held.ending_with(".yml") == ending


def test_iteration_crosses_the_decoding_chunks_and_the_builder_batches() -> None:
    names = [f"cases/{i // 5000}/n-{i:06d}{'é' if i % 7 == 0 else ''}.yml" for i in range(12_345)]
    builder = NamesBuilder()
    for start in range(0, len(names), 1000):  # batches, ASCII and not, one after the other
        builder.extend(names[start : start + 1000])
    held = builder.build()
    assert list(held) == names
    assert held[4095:4097] == names[4095:4097]
    assert held.ending_with(".yml") is held  # every name ends so: the same listing, not a copy
    assert held.ending_with("é.yml") == [n for n in names if n.endswith("é.yml")]
    assert FileNames() == [] and len(FileNames.of([])) == 0


def test_the_ends_widen_when_the_names_outgrow_four_byte_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Held in four bytes each while the names take under 4 GiB: past that the builder widens
    # them before they overflow (shown with the limit at a few hundred bytes).
    from complaints.adapters import names as names_module

    monkeypatch.setattr(names_module, "_SMALL_LIMIT", 300)
    names = [f"cases/2026/{i:04d}{'名' if i % 3 == 0 else ''}.yml" for i in range(100)]
    builder = NamesBuilder()
    for start in range(0, len(names), 7):
        builder.extend(names[start : start + 7])
    held = builder.build()
    assert held._ends.itemsize == 8
    assert list(held) == names and held[42] == names[42] and names[99] in held
    small = FileNames.of(names[:3])
    assert small._ends.itemsize == 4 and list(small) == names[:3]


def _naive(cases: Path) -> list[str]:
    """The listing as it was made before it was compact: every entry, sorted at the end."""
    out = []
    for folder, dirs, files in os.walk(cases):
        rel = "cases" + folder[len(str(cases)):]
        out.extend(f"{rel}/{f}" for f in files)
        out.extend(f"{rel}/{d}" for d in dirs if d.endswith((".yml", ".yaml")))
    return sorted(out)


PART = st.sampled_from(["a", "b", "x.yml", "x.yml-b", "x.yml.bak", "2026", "2026-old", "2026.", "é", "y.yaml", "-", "~", "a b"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(PART, min_size=1, max_size=4), max_size=25))
def test_the_listing_is_in_the_order_of_the_sorted_paths(tmp_path_factory: pytest.TempPathFactory, paths: list[list[str]]) -> None:
    # A folder whose name another entry's name begins with ("2026" and "2026-old", "x.yml" as
    # a folder and "x.yml-b" as a file) is where visiting folders in name order goes wrong.
    root = tmp_path_factory.mktemp("repo")
    cases = root / "cases"
    cases.mkdir()
    for parts in paths:
        folder = cases
        for part in parts[:-1]:
            folder = folder / part
            if folder.exists() and not folder.is_dir():
                break
            folder.mkdir(exist_ok=True)
        else:
            target = folder / parts[-1]
            if not target.exists():
                target.write_text("x")
    os.mkfifo(cases / "fifo.yml")
    (cases / "link.yml").symlink_to("nowhere")
    (cases / "empty.yml").mkdir()  # a folder named like a case, with nothing in it
    odd = os.fsencode(cases) + b"/\xff\xfe.yml"  # a name that is not UTF-8
    os.mkdir(odd)
    Path(os.fsdecode(odd + b"/a")).write_text("x")
    listed = Repository(root, None).case_files()  # type: ignore[arg-type]
    assert list(listed) == _naive(cases)
    assert Repository(root / "elsewhere", None).case_files() == []  # type: ignore[arg-type]
