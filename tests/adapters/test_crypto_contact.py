"""Contact details as age ciphertext: encryption, `reveal`, `rekey`, recipients.txt, and the
plaintext the validator rejects."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pyrage
import pytest
from click.testing import CliRunner
from pyrage import x25519

from complaints.adapters import crypto

from complaints.commands.case_edit import yaml_scalar
from complaints.commands.rekey import rekey
from complaints.cli import cli
from complaints.errors import ConfigError
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from test_writer_support import PROJECT, make_repo, write_identity, write_recipients

CONTACT = "Chen Mei, 13800138000, Room 5, 1 Example Road\n"


def new_named(root: Path, contact: str = CONTACT) -> tuple[str, Path]:
    result = CliRunner().invoke(cli, ["new", "--repo", str(root), "--today", "2026-03-06", "--channel", "mailbox", "--category", "delay",
                                      "--department", "permits", "--priority", "normal", "--named", "--contact-stdin"], input=contact)
    assert result.exit_code == 0, result.output
    case_id = result.stdout.split()[1]
    return case_id, Repository.open(root).find_case(case_id)


def contact_of(path: Path) -> str:
    value: str = load_yaml(path.read_bytes(), "x")["complainant"]["contact"]
    return value


def test_encrypt_and_decrypt_with_a_generated_key_pair() -> None:
    alice, bob, eve = (x25519.Identity.generate() for _ in range(3))
    recipients = crypto.parse_recipients(f"{alice.to_public()}\n# bob\n{bob.to_public()} # bob\n")
    armored = crypto.encrypt_contact(CONTACT.encode(), recipients)
    assert armored.startswith(crypto.ARMOR_BEGIN + "\n") and armored.endswith(crypto.ARMOR_END + "\n")
    assert "Chen" not in armored
    assert crypto.decrypt_contact(armored, [alice]) == CONTACT.encode()
    assert crypto.decrypt_contact(armored, [bob]) == CONTACT.encode()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_contact(armored, [eve])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_contact(CONTACT, [alice])


def test_recipients_file_rules() -> None:
    key = x25519.Identity.generate()
    with pytest.raises(ConfigError, match="recipients.txt:2: not an age public key"):
        crypto.parse_recipients(f"{key.to_public()}\nssh-ed25519 AAAA\n")
    with pytest.raises(ConfigError, match="lists no age public key"):
        crypto.parse_recipients("# nobody\n")
    with pytest.raises(ConfigError, match="PRIVATE key") as caught:
        crypto.parse_recipients(f"{key.to_public()}\n{key}\n")
    assert str(key) not in str(caught.value)  # the secret is never repeated
    broken = str(key.to_public())[:-1] + ("q" if not str(key.to_public()).endswith("q") else "p")
    with pytest.raises(ConfigError, match="bad checksum"):
        crypto.parse_recipients(broken + "\n")


def test_shipped_recipients_is_a_placeholder_without_its_private_key() -> None:
    shipped = crypto.load_recipients(PROJECT)
    assert shipped.placeholder and len(shipped.keys) == 1
    tracked = subprocess.run(["git", "-C", str(PROJECT), "grep", "-l", "AGE-SECRET-KEY-1[0-9A-Z]\\{50\\}"], capture_output=True, text=True)
    assert tracked.stdout == ""  # no private key anywhere in the repository


def test_reveal_prints_only_when_asked(tmp_path: Path) -> None:
    root, identities = make_repo(tmp_path / "repo")
    case_id, _ = new_named(root)
    key_file = write_identity(tmp_path / "key.txt", identities)
    base = ["reveal", case_id, "--repo", str(root)]
    silent = CliRunner().invoke(cli, [*base, "--identity", str(key_file)])
    assert silent.exit_code == 2 and "Chen" not in silent.output and "--show" in silent.output
    shown = CliRunner().invoke(cli, [*base, "--identity", str(key_file), "--show"])
    assert shown.exit_code == 0 and shown.stdout == CONTACT
    by_env = CliRunner().invoke(cli, [*base, "--show"], env={"COMPLAINTS_AGE_IDENTITY": str(key_file)})
    assert by_env.exit_code == 0 and by_env.stdout == CONTACT
    out = tmp_path / "contact.txt"
    written = CliRunner().invoke(cli, [*base, "--identity", str(key_file), "--out", str(out)])
    assert written.exit_code == 0 and "Chen" not in written.output
    assert out.read_text() == CONTACT and out.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(cli, [*base, "--identity", str(key_file), "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output
    inside = CliRunner().invoke(cli, [*base, "--identity", str(key_file), "--out", str(root / "leak.txt")])
    assert inside.exit_code == 1 and not (root / "leak.txt").exists()
    stranger = write_identity(tmp_path / "other.txt", [x25519.Identity.generate()])
    refused = CliRunner().invoke(cli, [*base, "--identity", str(stranger), "--show"])
    assert refused.exit_code == 1 and "none of the given private keys can decrypt it" in refused.output and "Chen" not in refused.output


def test_rekey_moves_every_case_to_the_new_team(tmp_path: Path) -> None:
    root, old_team = make_repo(tmp_path / "repo", recipients=2)
    first, first_path = new_named(root)
    second, second_path = new_named(root, "Second person, 13900139000\n")
    anonymous = CliRunner().invoke(cli, ["new", "--repo", str(root), "--today", "2026-03-06", "--channel", "anonymous_box", "--category", "delay",
                                        "--department", "permits", "--priority", "normal", "--anonymous"])
    anonymous_path = Repository.open(root).find_case(anonymous.stdout.split()[1])
    before = {p: p.read_text() for p in (first_path, second_path, anonymous_path)}
    new_team = [old_team[1], x25519.Identity.generate()]  # member 0 leaves, a new member joins
    write_recipients(root, new_team)
    key_file = write_identity(tmp_path / "key.txt", [old_team[1]])
    result = CliRunner().invoke(cli, ["rekey", "--repo", str(root), "--identity", str(key_file), "--today", "2026-03-06"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 case(s); 1 without contact details" in result.output
    assert anonymous_path.read_text() == before[anonymous_path]
    for path, expected in ((first_path, CONTACT), (second_path, "Second person, 13900139000\n")):
        ciphertext = contact_of(path).encode()
        with pytest.raises(pyrage.DecryptError):
            pyrage.decrypt(ciphertext, [old_team[0]])
        assert pyrage.decrypt(ciphertext, [new_team[1]]).decode() == expected
        old_text, new_text = before[path], path.read_text()
        # only the lines inside the armored block changed (their number may: age pads randomly)
        begin, end = crypto.ARMOR_BEGIN, crypto.ARMOR_END
        assert new_text.split(begin)[0] == old_text.split(begin)[0]
        assert new_text.split(end)[1] == old_text.split(end)[1]
        assert new_text != old_text


def test_rekey_reports_files_it_cannot_open_and_leaves_them(tmp_path: Path) -> None:
    root, identities = make_repo(tmp_path / "repo")
    _, path = new_named(root)
    before = path.read_bytes()
    stranger = write_identity(tmp_path / "other.txt", [x25519.Identity.generate()])
    result = CliRunner().invoke(cli, ["rekey", "--repo", str(root), "--identity", str(stranger), "--today", "2026-03-06"])
    assert result.exit_code == 1
    assert "not re-encrypted: cases/2026/" in result.stderr and "can decrypt it" in result.stderr
    assert path.read_bytes() == before


def test_rekey_replaces_a_quoted_ciphertext_too(tmp_path: Path) -> None:
    root, identities = make_repo(tmp_path / "repo")
    _, path = new_named(root)
    armored = contact_of(path)
    text = path.read_text()
    start = text.index("  contact: |")
    end = text.index("  receipt_hash:")
    path.write_text(text[:start] + f"  contact: {yaml_scalar(armored)}\n" + text[end:])
    report = rekey(Repository.open(root), identities, __import__("datetime").date(2026, 3, 6))
    assert report.rekeyed and not report.failed
    assert crypto.decrypt_contact(contact_of(path), identities) == CONTACT.encode()


@pytest.mark.parametrize(
    "contact",
    ["Chen Mei 13800138000", "-----BEGIN AGE ENCRYPTED FILE-----\nnot base64 at all!\n-----END AGE ENCRYPTED FILE-----\n"],
)
def test_plaintext_contact_is_rejected_by_the_validator(tmp_path: Path, contact: str) -> None:
    root, _ = make_repo(tmp_path / "repo")
    _, path = new_named(root)
    text = path.read_text()
    start = text.index("  contact: |")
    end = text.index("  receipt_hash:")
    path.write_text(text[:start] + f"  contact: {yaml_scalar(contact)}\n" + text[end:])
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-03-06"])
    assert result.exit_code == 1
    assert "complainant.contact" in result.output and "age" in result.output
    assert "13800138000" not in result.output


def test_plaintext_contact_fields_are_rejected(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    _, path = new_named(root)
    path.write_text(path.read_text().replace("  anonymous: false\n", "  anonymous: false\n  phone: '13800138000'\n"))
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-03-06"])
    assert result.exit_code == 1 and "'phone'" in result.output and "13800138000" not in result.output


def test_identity_file_rules(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="holds no age private key"):
        crypto.parse_identities("# empty\n", "key.txt")
    with pytest.raises(ConfigError, match="key.txt:1: not an age private key"):
        crypto.parse_identities("AGE-SECRET-KEY-1NOTAKEY\n", "key.txt")
    identity: Any = x25519.Identity.generate()
    assert len(crypto.load_identities(write_identity(tmp_path / "k.txt", [identity]))) == 1
