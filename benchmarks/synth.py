#!/usr/bin/env python3
"""Realistic synthetic case repositories: the shipped sample data and the benchmark archives.

    python benchmarks/synth.py --sample              # rewrite the ~80 sample cases in cases/
    python benchmarks/synth.py --out DIR --count N   # a repository of N cases for benchmarks

Every case is valid and fictional (marked `sample: true`), with the mix of channels,
categories, stages and outcomes a real archive has: anonymous and named complainants (contact
details as real age ciphertexts to recipients.txt), acknowledgements, decisions, transfers,
extensions, pauses, resolutions with measures, follow-ups, reviews, and open cases, some late.
The same seed gives the same cases (except the ciphertexts, which age randomises).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
# Synthetic archives are made from the template as shipped, frozen with the tests, so that the
# benchmarks and the tests that use them measure the tool, whatever an organisation has made
# of its own policy.yml and cases/ (only --sample rewrites the live sample cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"

import yaml  # noqa: E402

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

SUMMARIES = {
    "delay": ["示例：申请材料提交后超过承诺时限仍未办结。", "示例：窗口承诺三日内答复，实际两周无人联系。", "示例：补正材料后再次被要求补正，办件一再拖延。"],
    "attitude": ["示例：窗口工作人员答复生硬，不愿解释办理要求。", "示例：电话咨询时被多次打断，未获有效答复。"],
    "shirking": ["示例：两个科室互相推诿，均称不属本科室职责。", "示例：被要求到另一部门开具证明，该部门称无此业务。"],
    "process": ["示例：网上平台与窗口要求的材料清单不一致。", "示例：同一事项需在三个窗口重复填写相同信息。"],
    "discipline": ["示例：工作时间窗口无人值守，等候较久。", "示例：工作人员在办公时间处理私人事务。"],
    "inaction": ["示例：反映的问题多次催办仍无处理结果。", "示例：投诉转交后无人跟进，也未告知进展。"],
    "information": ["示例：办事指南未公开收费标准。", "示例：政策调整后未及时更新网上办事指南。"],
    "other": ["示例：预约系统频繁故障导致无法按时办理。", "示例：办事大厅指引标识不清。"],
}
REASONS = ["示例：需调取其他科室的办件记录。", "示例：涉及多个部门，需要联合核查。", "示例：等待上级部门答复。"]
PAUSE_REASONS = ["示例：等待投诉人补充材料。", "示例：投诉人要求暂缓处理。"]
TRANSFER_REASONS = ["示例：经核实，问题实际发生在另一科室。", "示例：该事项由另一科室主办。"]
RESOLVE_SUMMARIES = ["示例：已督促相关科室办结并向投诉人说明。", "示例：经核查情况部分属实，已要求整改。", "示例：经调查未发现违规情况，已向投诉人解释。"]
SUGGESTIONS = ["示例：建议公开办件进度查询。", "示例：建议统一线上线下材料清单。", "示例：建议增设午间值班窗口。"]

CHANNELS = [("online_form", 30), ("hotline", 25), ("mailbox", 15), ("anonymous_box", 10), ("in_person", 10), ("letter", 10)]
CATEGORIES = [("delay", 28), ("attitude", 16), ("shirking", 12), ("process", 14), ("discipline", 8), ("inaction", 10), ("information", 7), ("other", 5)]
DEPARTMENTS = [("permits", 30), ("registry", 25), ("finance", 12), ("hr", 8), ("it", 10), ("general_office", 15), ("inspection", 5)]


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


class Generator:
    def __init__(self, root: Path, seed: int, today: dt.date, encrypt: bool = True, real_receipts: bool = False) -> None:
        from complaints.adapters.config import load_policy

        self.rng = random.Random(seed)
        self.today = today
        self.policy = load_policy(root)
        self.encrypt = encrypt
        self.real_receipts = real_receipts
        self.recipients = None
        self.receipt_codes: dict[str, str] = {}
        self.rare = 0
        self.reviews = 0
        if encrypt:
            from complaints.adapters.crypto import load_recipients

            self.recipients = load_recipients(root)
        self.handlers_by_dept: dict[str, list[str]] = {}
        for hid, h in self.policy.people.items():
            for d in h.departments:
                self.handlers_by_dept.setdefault(d, []).append(hid)
        self.approvers = sorted(self.policy.approvers)

    def _workdays_after(self, day: dt.date, n: int) -> dt.date:
        # Plausible dates only: weekends skipped; the deadline engine decides on-time or late.
        while n > 0:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                n -= 1
        return day

    def _handler(self, dept: str) -> str:
        return self.rng.choice(self.handlers_by_dept.get(dept) or sorted(self.policy.handlers))

    def case(self, received: dt.date, used: set[str]) -> tuple[str, str]:
        rng = self.rng
        while True:
            case_id = f"{self.policy.id_prefix}-{received:%Y%m%d}-" + "".join(rng.choice(CROCKFORD) for _ in range(5))
            if case_id not in used:
                used.add(case_id)
                break
        channel = _weighted(rng, CHANNELS)
        anonymous = channel == "anonymous_box" or rng.random() < 0.2
        category = _weighted(rng, CATEGORIES)
        dept = _weighted(rng, DEPARTMENTS)
        depts = [dept] + ([d for d in ["registry", "permits"] if d != dept][:1] if rng.random() < 0.1 else [])
        priority = "urgent" if rng.random() < 0.1 else "normal"
        handler = self._handler(dept)
        events: list[dict[str, Any]] = [{"kind": "received", "date": received}]
        day = received
        late = rng.random() < 0.12  # some handling runs late, so the deadlines have work to do

        if rng.random() < 0.9:
            day = self._workdays_after(day, rng.choice([0, 1, 1, 2, 3] + ([7, 9] if late else [])))
            events.append({"kind": "acknowledged", "date": day})
        day = self._workdays_after(day, rng.choice([0, 1, 2] + ([5] if late else [])))
        committee = False
        if rng.random() < 0.08:
            reasons = sorted(self.policy.vocab["not_accepted_reasons"])
            self.rare += 1  # rare kinds cycle through their vocabulary so small samples cover it
            events.append({"kind": "not_accepted", "date": day, "reason": reasons[self.rare % len(reasons)]})
        else:
            events.append({"kind": "accepted", "date": day})
            events.append({"kind": "assigned", "date": day, "department": dept, "handler": handler})
            holder = dept
            if rng.random() < 0.15:
                day = self._workdays_after(day, rng.randint(1, 4))
                to = rng.choice([d for d, _ in DEPARTMENTS if d != holder])
                handler = self._handler(to)
                events.append({"kind": "transferred", "date": day, "from": holder, "to": to, "handler": handler, "reason": rng.choice(TRANSFER_REASONS)})
                holder = to
            limit = 10 if priority == "urgent" else 30
            spent = rng.randint(3, limit - 2) if not late else rng.randint(limit + 1, limit + 12)
            if rng.random() < 0.1:
                ext_day = day + dt.timedelta(days=rng.randint(3, 8))
                days = rng.choice([10, 15, 20, 30])
                events.append({"kind": "extended", "date": ext_day, "stage": "resolve", "days": days, "approver": rng.choice(self.approvers), "reason": rng.choice(REASONS)})
                spent += rng.randint(1, days)
                day = ext_day
            if rng.random() < 0.1:
                p_day = day + dt.timedelta(days=rng.randint(1, 5))
                r_day = self._workdays_after(p_day, rng.randint(2, 6))
                events.append({"kind": "paused", "date": p_day, "reason": rng.choice(PAUSE_REASONS)})
                events.append({"kind": "resumed", "date": r_day})
                spent += (r_day - p_day).days
                day = r_day
            if rng.random() < 0.05:
                events.append({"kind": "protection_check", "date": day + dt.timedelta(days=1)})
                day += dt.timedelta(days=1)
            accepted_day = next(e["date"] for e in events if e["kind"] == "accepted")
            day = max(day + dt.timedelta(days=1), accepted_day + dt.timedelta(days=spent))
            outcome = rng.choices(["substantiated", "partly_substantiated", "not_substantiated", "mediated"], [35, 25, 30, 10])[0]
            measures: list[str] = []
            if outcome in ("substantiated", "partly_substantiated"):
                measures = sorted(set(rng.sample(["apology", "correction", "talk", "warning", "penalty", "process_change"], rng.choice([1, 1, 2]))))
            resolved: dict[str, Any] = {"kind": "resolved", "date": day, "outcome": outcome}
            if measures:
                resolved["measures"] = measures
            resolved["summary"] = rng.choice(RESOLVE_SUMMARIES)
            events.append(resolved)
        if not anonymous and rng.random() < 0.85:
            day = self._workdays_after(day, rng.choice([2, 3, 5, 8] + ([14] if late else [])))
            satisfaction = rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], [60, 28, 12])[0]
            events.append({"kind": "followed_up", "date": day, "satisfaction": satisfaction})
        if rng.random() < 0.08:
            committee = True
            day += dt.timedelta(days=rng.randint(3, 20))
            events.append({"kind": "review_requested", "date": day})
            day += dt.timedelta(days=rng.randint(10, 35))
            events.append({"kind": "review_answered", "date": day, "outcome": ["upheld", "changed"][self.reviews % 2]})
            self.reviews += 1
        day += dt.timedelta(days=rng.randint(1, 7))
        events.append({"kind": "closed", "date": day})
        events = [e for e in events if e["date"] <= self.today]
        if (self.today - received).days < 75 and rng.random() < 0.5:
            # Recent cases are often still open: keep the timeline up to some stage.
            events = events[: rng.randint(1, max(1, len(events) - 1))]
        elif rng.random() < 0.015:
            # The odd case that stalled long ago: it will be overdue by a wide margin.
            events = events[: rng.randint(1, min(3, len(events)))]
        suggestions = []
        if rng.random() < 0.15:
            adopted = rng.random() < 0.5
            suggestions.append({"summary": rng.choice(SUGGESTIONS), "adopted": adopted, "rewarded": adopted and rng.random() < 0.4})
        return case_id, self.render(case_id, channel, anonymous, category, depts, priority, handler, committee, events, suggestions)

    def render(self, case_id: str, channel: str, anonymous: bool, category: str, depts: list[str], priority: str,
               handler: str, committee: bool, events: list[dict[str, Any]], suggestions: list[dict[str, Any]]) -> str:
        rng = self.rng
        out = [
            "# yaml-language-server: $schema=../../schema/case.schema.json",
            "# SAMPLE DATA: a fictional case generated by benchmarks/synth.py. No real person or event.",
            f"id: {case_id}",
            "sample: true",
            f"channel: {channel}",
            "complainant:",
            f"  anonymous: {'true' if anonymous else 'false'}",
        ]
        if not anonymous and self.recipients is not None:
            from complaints.adapters.crypto import encrypt_contact

            fake = f"示例投诉人{rng.randint(1, 999)}（虚构）".encode()
            armored = encrypt_contact(fake, self.recipients)
            out.append("  contact: |")
            out += ["    " + line for line in armored.strip().splitlines()]
        if self.real_receipts:
            from complaints.core.receipt import format_code, receipt_hash

            code = format_code("".join(rng.choice(CROCKFORD) for _ in range(16)))
            self.receipt_codes[case_id] = code
            out.append(f"  receipt_hash: {receipt_hash(code, self.policy.receipt)}")
        else:
            out.append("  receipt_hash: pbkdf2-sha256$600000$" + "".join(rng.choice("0123456789abcdef") for _ in range(64)))
        out += [
            "subject:",
            f"  category: {category}",
            f"  departments: [{', '.join(depts)}]",
            f"  summary: {rng.choice(SUMMARIES[category])}",
            f"priority: {priority}",
            f"handler: {handler}",
        ]
        if committee:
            out.append("committee: true")
        out.append("timeline:")
        for event in events:
            out.append(f"  - kind: {event['kind']}")
            for key, value in event.items():
                if key == "kind":
                    continue
                if isinstance(value, dt.date):
                    value = value.isoformat()
                elif isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, list):
                    value = "[" + ", ".join(value) + "]"
                out.append(f"    {key}: {value}")
        if suggestions:
            out.append("suggestions:")
            for s in suggestions:
                out.append(f"  - summary: {s['summary']}")
                out.append(f"    adopted: {'true' if s['adopted'] else 'false'}")
                out.append(f"    rewarded: {'true' if s['rewarded'] else 'false'}")
        return "\n".join(out) + "\n"


def generate(root: Path, out: Path, count: int, seed: int, start: dt.date, end: dt.date, today: dt.date,
             encrypt: bool = True, real_receipts: bool = False) -> dict[str, str]:
    """Write ``count`` cases received between start and end under out/cases/; returns receipt codes."""
    gen = Generator(root, seed, today, encrypt=encrypt, real_receipts=real_receipts)
    span = (end - start).days
    used: set[str] = set()
    days = sorted(start + dt.timedelta(days=gen.rng.randint(0, span)) for _ in range(count))
    for received in days:
        while received.weekday() >= 5 and gen.rng.random() < 0.8:  # fewer complaints at weekends
            received += dt.timedelta(days=1)
        received = min(received, end)
        case_id, text = gen.case(received, used)
        path = out / "cases" / f"{received.year}" / f"{case_id}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return gen.receipt_codes


def make_repository(out: Path, count: int, seed: int = 1, today: dt.date = dt.date(2026, 9, 30), encrypt: bool = True) -> Path:
    """A complete case repository (policy, schemas, calendar, recipients + N cases) at ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("policy.yml", "calendar.yml", "recipients.txt", "mkdocs.yml"):
        if (TEMPLATE / name).exists():
            shutil.copy2(TEMPLATE / name, out / name)
    shutil.copytree(TEMPLATE / "schema", out / "schema", dirs_exist_ok=True)
    # The site's sources too, so `complaints site build --repo OUT` works on a synthetic archive.
    shutil.copytree(TEMPLATE / "site", out / "site", dirs_exist_ok=True, ignore=shutil.ignore_patterns("generated"))
    years = max(1, count // 20000)
    start = dt.date(today.year - years, 1, 2)
    generate(TEMPLATE, out, count, seed, start, today - dt.timedelta(days=2), today, encrypt=encrypt)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true", help="rewrite the sample cases in cases/ (2025-2026)")
    parser.add_argument("--out", type=Path, help="write a repository of --count cases here")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260305)
    parser.add_argument("--no-encrypt", action="store_true", help="skip age encryption (faster, for quick trials)")
    args = parser.parse_args()
    if args.sample:
        target = ROOT / "cases"
        for old in target.glob("*/*.yml"):
            old.unlink()
        codes = generate(ROOT, ROOT, 80, args.seed, dt.date(2025, 1, 2), dt.date(2026, 11, 20), dt.date(2026, 11, 27), real_receipts=True)
        (ROOT / "benchmarks" / "sample-receipt-codes.json").write_text(json.dumps(codes, indent=2, sort_keys=True) + "\n")
        print(f"wrote 80 sample cases under {target}")
        return 0
    if args.out is None:
        parser.error("give --sample or --out DIR")
    make_repository(args.out, args.count, args.seed, encrypt=not args.no_encrypt)
    print(f"wrote {args.count} cases under {args.out / 'cases'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
