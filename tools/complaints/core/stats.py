"""Aggregate statistics of the complaint mechanism, safe to publish.

Every metric is defined once, in `METRICS`, with a written and versioned formula that the
JSON document, the Markdown page, the site and the README all show. The computation works in
three steps, each a plain function over plain data:

1. `case_facts` reduces a case (and its stage deadlines from the deadline engine) to keys,
   booleans and months — nothing free-text, nothing finer than a month leaves this step;
2. `compute_from_facts` counts every quantity for every month, quarter and the year that holds
   the requested period, with the linear relations between them (margins, period sums, rate
   numerator + complement = denominator), and lets `disclosure.suppress` withhold small cells
   and their complements over that whole year at once — so the monthly, quarterly and yearly
   documents of one year are cut from one suppression pattern and cannot be played off
   against each other;
3. the report holds the requested period and its months, and `statsreport` writes it.

Conventions shared by every formula: a case belongs to the month it was received (cohort);
its state is read as of the generation date (`today`); anonymous cases count like any other
except where a definition says so; a transferred case counts once.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import statistics
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Protocol, Sequence

from complaints.core.disclosure import Relation, Suppression, suppress
from complaints.errors import ConfigError, PublicationError
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, OVERDUE, StageDeadline

if TYPE_CHECKING:
    from complaints.adapters.repository import Repository
    from complaints.core.stats_history import HistoryPeriod

FORMULA_VERSION = 2
DEFAULT_THRESHOLD = 5
DEFAULT_MIN_BASE = 10
METHOD = "threshold-suppression-with-headline-base"
DEFAULT_SATISFIED = ("satisfied", "basically_satisfied")
DEFAULT_BUCKETS = (5, 10, 20)


# ---- definitions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class MetricDef:
    """One metric's written definition. Bump `version` whenever the meaning changes."""

    id: str
    label: Label
    kind: str  # count | rate | quantile
    unit: str
    version: int
    text: Label
    open_cases: Label
    anonymous_cases: Label
    transfers: Label
    dimension: str | None  # a key of DIMENSIONS, or None for a single figure


DIMENSIONS: dict[str, Label] = {
    "channel": Label("渠道", "Channel"),
    "category": Label("投诉类别", "Category"),
    "department": Label("被投诉部门", "Department complained about"),
    "priority": Label("紧急程度", "Priority"),
    "stage": Label("办理环节", "Stage"),
    "age": Label("已历工作日", "Age in working days"),
    "reason": Label("不予受理理由", "Reason not accepted"),
    "outcome": Label("复核结果", "Review outcome"),
    "resolution": Label("办结结果", "Outcome"),
    "satisfaction": Label("回访评价", "Follow-up answer"),
    "measure": Label("处理措施", "Measure"),
    "suggestion": Label("建议", "Suggestions"),
}

_COHORT_ZH = "按登记月份归入统计期，状态以生成日期为准。"
_COHORT_EN = "A case counts in the month it was received; its state is read as of the generation date."
_OPEN_COUNTED = Label("计入（登记即计数，不论是否办结）。", "Counted: a case counts once received, whatever its state.")
_ANON_COUNTED = Label("与实名投诉同样计入。", "Counted like named cases.")
_TRANSFER_ONCE = Label("转办的案件只计一次。", "A transferred case counts once.")
_OPEN_STAGE = Label(
    "已超期未完成的环节计入分母、不计入分子（算作未按时）；未到期的未完成环节不计入。",
    "An open stage past its due date counts in the denominator and not the numerator (as late); "
    "an open stage not yet due is left out.",
)
_TRANSFER_STAGE = Label(
    "转办不重启时限：环节自开始事件起计时，按转办后的案件计一次。",
    "A transfer does not restart a clock: the stage runs from its start event and counts once.",
)


def _m(
    id: str,
    zh: str,
    en: str,
    kind: str,
    unit: str,
    text_zh: str,
    text_en: str,
    *,
    dimension: str | None = None,
    open_cases: Label = _OPEN_COUNTED,
    anonymous: Label = _ANON_COUNTED,
    transfers: Label = _TRANSFER_ONCE,
    version: int = 1,
) -> MetricDef:
    return MetricDef(
        id=id,
        label=Label(zh, en),
        kind=kind,
        unit=unit,
        version=version,
        text=Label(text_zh + _COHORT_ZH, text_en + " " + _COHORT_EN),
        open_cases=open_cases,
        anonymous_cases=anonymous,
        transfers=transfers,
        dimension=dimension,
    )


_METRIC_LIST: tuple[MetricDef, ...] = (
    _m("volume_by_channel", "按渠道的投诉量", "Complaints by channel", "count", "cases",
       "统计期内登记的投诉件数，按投诉渠道分列；合计为登记总数。",
       "Complaints received in the period, by channel; the total is all complaints received.",
       dimension="channel"),
    _m("volume_by_category", "按类别的投诉量", "Complaints by category", "count", "cases",
       "统计期内登记的投诉件数，按投诉类别分列；合计为登记总数。",
       "Complaints received in the period, by category; the total is all complaints received.",
       dimension="category"),
    _m("volume_by_department", "按被投诉部门的投诉量", "Complaints by department", "count", "case_departments",
       "统计期内登记的投诉，按投诉所涉部门分列：涉及多个部门的投诉在每个部门各计一次；合计为“投诉×部门”的对数。",
       "Complaints received in the period, by department complained about: a complaint about several "
       "departments counts once for each; the total is the number of complaint-department pairs.",
       dimension="department",
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it.")),
    _m("volume_by_priority", "按紧急程度的投诉量", "Complaints by priority", "count", "cases",
       "统计期内登记的投诉件数，按紧急程度分列；合计为登记总数。",
       "Complaints received in the period, by priority; the total is all complaints received.",
       dimension="priority"),
    _m("response_rate", "响应率", "Response rate", "rate", "percent",
       "响应率 = 在“告知回执”时限内告知或作出不予受理决定的投诉数 ÷ “告知回执”环节已完成或已到期的投诉数 × 100%（即告知回执环节的按时率）。",
       "Response rate = complaints acknowledged (or decided not accepted) within the acknowledgement "
       "limit ÷ complaints whose acknowledgement stage is done or past due × 100% (the on-time rate "
       "of the acknowledge stage).",
       open_cases=_OPEN_STAGE,
       anonymous=Label("计入：匿名投诉以回执码告知。", "Counted: anonymous complainants are acknowledged through their receipt code."),
       transfers=_TRANSFER_STAGE),
    _m("resolution_rate", "解决率", "Resolution rate", "rate", "percent",
       "解决率 = 已办结的受理投诉数 ÷ 已办结或“调查办结”环节已超期的受理投诉数 × 100%。",
       "Resolution rate = accepted complaints resolved ÷ accepted complaints resolved or whose "
       "resolve stage is past due × 100%.",
       open_cases=Label("已超期未办结的计入分母（算作未解决）；未到期的在办案件不计入。",
                        "An open case past its resolve due date counts in the denominator (as unresolved); "
                        "an open case not yet due is left out."),
       transfers=_TRANSFER_STAGE),
    _m("satisfaction_rate", "满意率", "Satisfaction rate", "rate", "percent",
       "满意率 = 回访评价为“满意”或“基本满意”（见政策文件 publication.satisfied）的投诉数 ÷ 已回访的投诉数 × 100%；一件投诉以最后一次回访为准。",
       "Satisfaction rate = complaints whose follow-up answer counts as satisfied (policy "
       "publication.satisfied: satisfied, basically satisfied) ÷ complaints followed up × 100%; the "
       "last follow-up of a complaint counts.",
       open_cases=Label("只计已回访的投诉。", "Only complaints followed up count."),
       anonymous=Label("不计入：匿名投诉人无法回访。", "Not counted: anonymous complainants cannot be called back.")),
    _m("on_time_rate", "各环节按时率", "On-time rate by stage", "rate", "percent",
       "某环节按时率 = 在时限内完成的该环节数 ÷ 已完成或已到期的该环节数 × 100%；时限（含延期、中止）由截止日期引擎按政策文件计算。",
       "On-time rate of a stage = stages completed by their due date ÷ stages completed or past due × "
       "100%; due dates (with extensions and pauses) come from the deadline engine and the policy.",
       dimension="stage", open_cases=_OPEN_STAGE,
       anonymous=Label("计入；“回访”环节只适用于实名投诉。", "Counted; the follow-up stage applies to named complaints only."),
       transfers=_TRANSFER_STAGE),
    _m("working_days_median", "各环节用时中位数", "Median working days by stage", "quantile", "working_days",
       "已完成环节从开始到完成所用工作日数（开始当日不计）的中位数（statistics.median）。",
       "Median of the working days from a completed stage's start to its completion (the start day "
       "not counted), by Python's statistics.median.",
       dimension="stage",
       open_cases=Label("不计入：只计已完成的环节。", "Not counted: only completed stages are measured."),
       transfers=_TRANSFER_STAGE),
    _m("working_days_p90", "各环节用时第90百分位", "90th percentile of working days by stage", "quantile", "working_days",
       "已完成环节所用工作日数的第90百分位（statistics.quantiles，n=10，inclusive 方法）。",
       "90th percentile of the working days a completed stage took (statistics.quantiles, n=10, "
       "inclusive method).",
       dimension="stage",
       open_cases=Label("不计入：只计已完成的环节。", "Not counted: only completed stages are measured."),
       transfers=_TRANSFER_STAGE),
    MetricDef(
        id="backlog_by_age",
        label=Label("在办积压（按已历工作日）", "Open backlog by age"),
        kind="count",
        unit="cases",
        version=1,
        text=Label(
            "月末（当月为生成日期）仍未办结、未作不予受理决定、未归档的投诉数，按自登记起已历工作日分组；季度和年度取期末数。",
            "Complaints open at the end of the month (the generation date for the current month) — not "
            "resolved, not refused, not closed — by working days since received; a quarter or year "
            "shows its last month.",
        ),
        open_cases=Label("只计在办投诉。", "Only open complaints count."),
        anonymous_cases=_ANON_COUNTED,
        transfers=_TRANSFER_ONCE,
        dimension="age",
    ),
    _m("extension_rate", "延期率", "Extension rate", "rate", "percent",
       "延期率 = 至少有一次经批准延期的受理投诉数 ÷ 受理投诉数 × 100%。",
       "Extension rate = accepted complaints with at least one approved extension ÷ accepted complaints × 100%.",
       open_cases=Label("在办的受理投诉计入分母。", "Open accepted complaints count in the denominator.")),
    _m("pause_rate", "中止率", "Pause rate", "rate", "percent",
       "中止率 = 至少中止过一次的受理投诉数 ÷ 受理投诉数 × 100%。",
       "Pause rate = accepted complaints paused at least once ÷ accepted complaints × 100%.",
       open_cases=Label("在办的受理投诉计入分母。", "Open accepted complaints count in the denominator.")),
    _m("not_accepted_rate", "不予受理率", "Not-accepted rate", "rate", "percent",
       "不予受理率 = 不予受理的投诉数 ÷ 已作出受理决定（受理或不予受理）的投诉数 × 100%。",
       "Not-accepted rate = complaints not accepted ÷ complaints decided (accepted or not) × 100%.",
       open_cases=Label("尚未作出受理决定的不计入。", "Complaints not yet decided are left out.")),
    _m("not_accepted_reasons", "不予受理理由", "Reasons for not accepting", "count", "cases",
       "不予受理的投诉数，按理由分列；合计为不予受理总数。",
       "Complaints not accepted, by reason; the total is all complaints not accepted.",
       dimension="reason"),
    _m("review_rate", "复核申请率", "Review rate", "rate", "percent",
       "复核申请率 = 办结后申请复核的投诉数 ÷ 已办结的投诉数 × 100%。",
       "Review rate = resolved complaints whose answer the complainant asked to be reviewed ÷ resolved complaints × 100%.",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count.")),
    _m("review_outcomes", "复核结果", "Review outcomes", "count", "cases",
       "已答复复核的投诉数，按最后一次复核结果分列；合计为已答复复核的投诉数。",
       "Complaints whose review was answered, by the outcome of the last review; the total is all complaints with a review answered.",
       dimension="outcome",
       open_cases=Label("复核尚未答复的不计入；已办结和不予受理的投诉都计入。",
                        "Reviews not yet answered are left out; resolved and not-accepted complaints both count."),
       version=2),
    _m("outcomes", "办结结果", "Outcomes", "count", "cases",
       "已办结的投诉数，按办结结果（属实、部分属实、不实）分列；合计为已办结的投诉数（与“办结”环节完成数相同）。",
       "Resolved complaints, by outcome (substantiated, partly, not substantiated); the total is all resolved "
       "complaints (the same count as the resolve stages done).",
       dimension="resolution",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count.")),
    _m("satisfaction_distribution", "回访评价分布", "Follow-up answers", "count", "cases",
       "已回访的投诉数，按最后一次回访评价（满意、基本满意、不满意）分列；合计为已回访的投诉数（满意率的分母）。",
       "Complaints followed up, by the answer of the last follow-up (satisfied, basically satisfied, "
       "dissatisfied); the total is all complaints followed up (the satisfaction rate's denominator).",
       dimension="satisfaction",
       open_cases=Label("只计已回访的投诉。", "Only complaints followed up count."),
       anonymous=Label("不计入：匿名投诉人无法回访。", "Not counted: anonymous complainants cannot be called back.")),
    _m("department_on_time_rate", "各部门办结按时率", "On-time resolution by department", "rate", "percent",
       "某部门办结按时率 = 涉及该部门、在时限内办结的受理投诉数 ÷ 涉及该部门、已办结或办结环节已超期的受理投诉数 × 100%；涉及多个部门的投诉在每个部门各计一次。",
       "On-time resolution of a department = accepted complaints about it resolved by the due date ÷ accepted "
       "complaints about it resolved or past the resolve due date × 100%; a complaint about several departments "
       "counts once for each.",
       dimension="department", open_cases=_OPEN_STAGE,
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it.")),
    _m("department_response_rate", "各部门响应率", "Response rate by department", "rate", "percent",
       "某部门响应率 = 涉及该部门、在“告知回执”时限内告知的投诉数 ÷ 涉及该部门、告知回执环节已完成或已到期的投诉数 × 100%；涉及多个部门的投诉在每个部门各计一次。",
       "Response rate of a department = complaints about it acknowledged within the limit ÷ complaints about it "
       "whose acknowledgement stage is done or past due × 100%; a complaint about several departments counts once for each.",
       dimension="department", open_cases=_OPEN_STAGE,
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it.")),
    _m("department_satisfaction_rate", "各部门满意率", "Satisfaction rate by department", "rate", "percent",
       "某部门满意率 = 涉及该部门、回访评价计为满意的投诉数 ÷ 涉及该部门、已回访的投诉数 × 100%；涉及多个部门的投诉在每个部门各计一次。",
       "Satisfaction rate of a department = complaints about it whose follow-up answer counts as satisfied ÷ "
       "complaints about it followed up × 100%; a complaint about several departments counts once for each.",
       dimension="department",
       open_cases=Label("只计已回访的投诉。", "Only complaints followed up count."),
       anonymous=Label("不计入：匿名投诉人无法回访。", "Not counted: anonymous complainants cannot be called back."),
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it.")),
    _m("measures_by_kind", "处理措施", "Measures taken", "count", "measures",
       "办结时采取的处理措施（如通报批评、效能问责），按种类分列：一件投诉采取多项措施时每项各计一次；合计为措施总数。",
       "Measures taken at resolution (e.g. warnings, penalties), by kind: a complaint with several "
       "measures counts once for each; the total is the number of measures.",
       dimension="measure",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count.")),
    _m("measures_by_category", "各类别的处理措施", "Measures taken by category", "count", "measures",
       "办结时采取的处理措施数，按投诉类别分列：一件投诉采取多项措施时每项各计一次；合计为措施总数（与“处理措施”的合计相同）。",
       "Measures taken at resolution, by the complaint's category: a complaint with several measures counts once "
       "for each; the total is the number of measures (the same as the total of measures taken).",
       dimension="category",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count.")),
    _m("suggestions", "改进建议", "Improvement suggestions", "count", "suggestions",
       "从投诉中形成的改进建议：收到数、其中采纳数、其中奖励数（奖励只适用于采纳的建议）。",
       "Improvement suggestions drawn from complaints: received, of which adopted, of which rewarded "
       "(only adopted suggestions are rewarded).",
       dimension="suggestion",
       open_cases=Label("在办投诉的建议同样计入。", "Suggestions of open complaints count too.")),
)

METRICS: dict[str, MetricDef] = {m.id: m for m in _METRIC_LIST}

DISCLOSURE_RULE = Label(
    "只公布汇总数，最细到月。全机构的三率、各环节按时率、办结结果和回访评价分布，在其分母（基数）不少于最小基数时全部公布；"
    "其余计数（按部门、类别、渠道、理由、措施分列的，以及基数不足的全机构数）中 1 至阈值减 1 的不公布，并再隐去足够多的其他格，"
    "经线性规划审计，读者对每个隐去的数推出的区间都包含 0（无法断定其中有任何人）。某月无法公布时，趋势图改用所在季度的数。",
    "Aggregates only, months at the finest. Organisation-wide 三率, on-time rates, outcome and follow-up "
    "distributions are published in full when their base (denominator) reaches the minimum base; any other count "
    "(by department, category, channel, reason or measure, and organisation-wide figures over a smaller base) from 1 "
    "to the threshold minus 1 is withheld with enough other cells that, by a linear-programming audit, a reader can "
    "narrow no withheld count to an interval that excludes 0 (no one can be shown to be in it). A month that cannot be published "
    "shows its quarter in the trend.",
)


# ---- periods ------------------------------------------------------------------------------

_PERIOD = re.compile(r"^([0-9]{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY)."""

    id: str
    kind: str
    year: int
    months: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Period:
        """Raises ValueError for anything but YYYY-MM, YYYY-Qn or YYYY."""
        m = _PERIOD.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a period (YYYY-MM, YYYY-Qn or YYYY)")
        year = int(m.group(1))
        if m.group(2):
            return cls(text.strip(), "month", year, (f"{year}-{m.group(2)}",))
        if m.group(3):
            q = int(m.group(3))
            return cls(text.strip(), "quarter", year, tuple(f"{year}-{i:02d}" for i in range(3 * q - 2, 3 * q + 1)))
        return cls(text.strip(), "year", year, tuple(f"{year}-{i:02d}" for i in range(1, 13)))

    @classmethod
    def year_to_date(cls, today: dt.date) -> Period:
        return cls.parse(str(today.year))


def month_of(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def _month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:]), 1)


def _month_end(month: str) -> dt.date:
    start = _month_start(month)
    nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


# ---- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicationSettings:
    threshold: int = DEFAULT_THRESHOLD
    min_base: int = DEFAULT_MIN_BASE
    method: str = METHOD
    update_every: str = "month"
    satisfied: tuple[str, ...] = DEFAULT_SATISFIED
    backlog_age_buckets: tuple[int, ...] = DEFAULT_BUCKETS
    allow: tuple[str, ...] = ()

    @classmethod
    def from_policy(cls, raw: Mapping[str, Any]) -> PublicationSettings:
        pub = raw.get("publication") or {}
        if not isinstance(pub, Mapping):
            raise ConfigError("policy.yml::$.publication: must be a mapping")
        threshold = pub.get("threshold", DEFAULT_THRESHOLD)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
            raise ConfigError("policy.yml::$.publication.threshold: must be a positive integer")
        min_base = pub.get("min_base", DEFAULT_MIN_BASE)
        if not isinstance(min_base, int) or isinstance(min_base, bool) or min_base < threshold:
            raise ConfigError("policy.yml::$.publication.min_base: must be an integer no smaller than the threshold")
        method = pub.get("method", METHOD)
        if method != METHOD:
            raise ConfigError(f"policy.yml::$.publication.method: must be {METHOD}")
        update_every = pub.get("update_every", "month")
        if update_every not in ("month", "quarter"):
            raise ConfigError("policy.yml::$.publication.update_every: must be month or quarter")
        buckets = tuple(pub.get("backlog_age_buckets", DEFAULT_BUCKETS))
        if not buckets or list(buckets) != sorted(set(buckets)):
            raise ConfigError("policy.yml::$.publication.backlog_age_buckets: must be ascending and distinct")
        return cls(
            threshold=threshold,
            min_base=min_base,
            update_every=update_every,
            satisfied=tuple(pub.get("satisfied", DEFAULT_SATISFIED)),
            backlog_age_buckets=buckets,
            allow=tuple(pub.get("allow", ())),
        )

    def next_update(self, today: dt.date) -> dt.date:
        """The first day of the next month (or quarter): when the statistics are next regenerated."""
        step = 1 if self.update_every == "month" else 3 - (today.month - 1) % 3
        month = today.month - 1 + step
        return dt.date(today.year + month // 12, month % 12 + 1, 1)

    def bucket_keys(self) -> list[str]:
        keys = []
        low = 0
        for high in self.backlog_age_buckets:
            keys.append(f"{low}-{high}")
            low = high + 1
        keys.append(f"{low}+")
        return keys

    def bucket_of(self, age: int) -> str:
        keys = self.bucket_keys()
        for key, high in zip(keys, self.backlog_age_buckets):
            if age <= high:
                return key
        return keys[-1]


# ---- facts --------------------------------------------------------------------------------


class WorkingDays(Protocol):
    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...


@dataclass(frozen=True, slots=True)
class StageFact:
    stage: str
    state: str
    working_days: int | None  # from start to completion, completed stages only


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What statistics may know of a case: keys, flags and dates kept in the library only
    (the report shows months). Never free text."""

    received: dt.date
    channel: str
    category: str
    priority: str
    departments: tuple[str, ...]
    anonymous: bool
    accepted: bool
    not_accepted_reason: str | None
    finished: dt.date | None  # first resolved / not_accepted / closed: leaves the backlog
    resolved: bool  # the resolve stage is done
    measures: tuple[str, ...]
    extended: bool
    paused: bool
    satisfaction: str | None  # the last follow-up's answer
    review_requested: bool
    review_outcome: str | None  # the last answered review's outcome
    suggestions: tuple[tuple[bool, bool], ...]  # (adopted, rewarded)
    stages: tuple[StageFact, ...] = ()
    outcome: str | None = None  # the last resolution's outcome

    @property
    def month(self) -> str:
        return month_of(self.received)


def _date(value: Any) -> dt.date:
    if value.__class__ is str:
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def case_facts(
    case: Mapping[str, Any], stages: Sequence[StageDeadline], calendar: WorkingDays, today: dt.date
) -> CaseFacts:
    """Reduce a valid case and its stage deadlines to what the statistics count. Events dated
    after `today` are ignored."""
    # a valid timeline opens with `received`; its date is the case's cohort month
    received = _date(case["timeline"][0]["date"])
    # One pass over the timeline (this runs for every case of every statistics run).
    kinds: set[str] = set()
    not_accepted: list[Mapping[str, Any]] = []
    finished: list[dt.date] = []
    resolved_events: list[Mapping[str, Any]] = []
    measures: list[str] = []
    follow: list[Mapping[str, Any]] = []
    answered: list[Mapping[str, Any]] = []
    for e in case.get("timeline", []):
        # (dict first: the check against typing's Mapping costs more than the rest of the loop)
        if not (isinstance(e, dict) or isinstance(e, Mapping)):
            continue
        day = _date(e["date"])
        if day > today:
            continue
        kind = e["kind"]
        kinds.add(kind)
        if kind in ("resolved", "not_accepted", "closed"):
            finished.append(day)
        if kind == "not_accepted":
            not_accepted.append(e)
        elif kind == "resolved":
            resolved_events.append(e)
            for m in e.get("measures") or ():
                if m not in measures:
                    measures.append(m)
        elif kind == "followed_up":
            follow.append(e)
        elif kind == "review_answered":
            answered.append(e)
    facts_stages = []
    for s in stages:
        days = calendar.working_days_between(s.started, s.completed) if s.completed is not None else None
        facts_stages.append(StageFact(s.stage, s.state, days))
    resolved = any(s.stage == "resolve" and s.state in (DONE_ON_TIME, DONE_LATE) for s in stages)
    subject = case.get("subject", {})
    complainant = case.get("complainant", {})
    return CaseFacts(
        received=received,
        channel=str(case.get("channel")),
        category=str(subject.get("category")),
        priority=str(case.get("priority")),
        departments=tuple(subject.get("departments") or ()),
        anonymous=bool(complainant.get("anonymous")),
        accepted="accepted" in kinds,
        not_accepted_reason=str(not_accepted[-1].get("reason")) if not_accepted and "accepted" not in kinds else None,
        finished=min(finished) if finished else None,
        resolved=resolved,
        measures=tuple(measures) if resolved_events else (),
        extended="extended" in kinds,
        paused="paused" in kinds,
        satisfaction=str(follow[-1].get("satisfaction")) if follow else None,
        review_requested="review_requested" in kinds,
        review_outcome=str(answered[-1].get("outcome")) if answered else None,
        suggestions=tuple(
            (bool(s.get("adopted")), bool(s.get("rewarded"))) for s in case.get("suggestions") or () if isinstance(s, Mapping)
        ),
        stages=tuple(facts_stages),
        outcome=str(resolved_events[-1].get("outcome")) if resolved_events and resolved else None,
    )


# ---- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    key: str
    label: Label | None
    value: float | None
    suppressed: bool
    numerator: int | None = None
    denominator: int | None = None
    observations: int | None = None
    is_rate: bool = False
    is_quantile: bool = False
    # the month's own figure is withheld and the value shown is its quarter's
    fallback: str | None = None


@dataclass(frozen=True)
class Slice:
    month: str
    rows: tuple[Cell, ...]
    total: Cell | None


@dataclass(frozen=True)
class MetricResult:
    definition: MetricDef
    rows: tuple[Cell, ...]
    total: Cell | None
    trend: tuple[Slice, ...]
    # every begun quarter of the year and the year itself, cut from the same pattern
    # (`Slice.month` holds the period's id): what the open-data files per period carry
    periods: tuple[Slice, ...] = ()


@dataclass(frozen=True)
class StatsReport:
    organisation: Label
    period: Period
    months: tuple[str, ...]  # the period's months that had begun by the generation date
    generated: dt.date
    data_commit: str
    threshold: int
    metrics: tuple[MetricResult, ...]
    allow: tuple[str, ...] = ()
    min_base: int = DEFAULT_MIN_BASE
    method: str = METHOD
    audited_cells: int = 0
    next_update: dt.date | None = None
    history: tuple[HistoryPeriod, ...] = ()
    # Invalid case files left out by --skip-invalid; None when nothing was left out because
    # the run would have stopped instead (the default).
    invalid_left_out: int | None = None

    @property
    def suppressed_cells(self) -> int:
        n = 0
        for m in self.metrics:
            cells = [*m.rows, *([m.total] if m.total else [])]
            for s in m.trend:
                cells += [*s.rows, *([s.total] if s.total else [])]
            n += sum(1 for c in cells if c.suppressed or c.fallback)
        return n

    def metric(self, metric_id: str) -> MetricResult:
        for m in self.metrics:
            if m.definition.id == metric_id:
                return m
        raise KeyError(metric_id)


# ---- counting over the year lattice -------------------------------------------------------


class _Lattice:
    """Cells for every month, quarter and the year, with their linear relations."""

    def __init__(self, year: int, last_month: str) -> None:
        self.months = [f"{year}-{i:02d}" for i in range(1, 13)]
        self.quarters = {f"{year}-Q{q}": self.months[3 * q - 3 : 3 * q] for q in range(1, 5)}
        self.year = str(year)
        self.last_month = last_month
        self.values: dict[str, int] = {}
        self.relations: list[Relation] = []
        self.alias: dict[str, str] = {}
        self._seen_rel: set[Relation] = set()

    @property
    def periods(self) -> list[str]:
        return [*self.months, *self.quarters, self.year]

    def id(self, name: str, period: str) -> str:
        cid = f"{name}@{period}"
        return self.alias.get(cid, cid)

    def _relate(self, total: str, parts: Iterable[str]) -> None:
        rel = Relation(total, tuple(parts))
        if rel.parts and rel not in self._seen_rel and rel.parts != (rel.total,):
            self._seen_rel.add(rel)
            self.relations.append(rel)

    def flow(self, name: str, by_month: Mapping[str, int]) -> None:
        """A quantity that adds up over time: quarter = its months, year = its quarters."""
        if f"{name}@{self.year}" in self.values:
            return
        for m in self.months:
            self.values[f"{name}@{m}"] = by_month.get(m, 0)
        for q, ms in self.quarters.items():
            self.values[f"{name}@{q}"] = sum(by_month.get(m, 0) for m in ms)
            self._relate(f"{name}@{q}", (f"{name}@{m}" for m in ms))
        self.values[f"{name}@{self.year}"] = sum(by_month.get(m, 0) for m in self.months)
        self._relate(f"{name}@{self.year}", (f"{name}@{q}" for q in self.quarters))

    def stock(self, name: str, by_month: Mapping[str, int]) -> None:
        """A quantity at a point in time: a quarter or year is its last begun month."""
        for m in self.months:
            self.values[f"{name}@{m}"] = by_month.get(m, 0)
        for q, ms in self.quarters.items():
            begun = [m for m in ms if m <= self.last_month] or [ms[-1]]
            self.alias[f"{name}@{q}"] = f"{name}@{begun[-1]}"
        begun_year = [m for m in self.months if m <= self.last_month] or [self.months[-1]]
        self.alias[f"{name}@{self.year}"] = f"{name}@{begun_year[-1]}"

    def add(self, total: str, parts: Sequence[str]) -> None:
        """total = sum(parts) at every period."""
        for p in self.periods:
            self._relate(self.id(total, p), [self.id(x, p) for x in parts])


def _labels(raw: Mapping[str, Any], vocabulary: str) -> list[tuple[str, Label]]:
    out = []
    for key, entry in (raw.get(vocabulary) or {}).items():
        label = entry.get("name", entry) if isinstance(entry, Mapping) else {}
        out.append((str(key), Label(str(label.get("zh", key)), str(label.get("en", key)))))
    return out


def _stage_labels(raw: Mapping[str, Any]) -> list[tuple[str, Label]]:
    out = []
    for key, entry in ((raw.get("time_limits") or {}).get("stages") or {}).items():
        label = entry.get("label", {}) if isinstance(entry, Mapping) else {}
        out.append((str(key), Label(str(label.get("zh", key)), str(label.get("en", key)))))
    return out


UNLISTED = "unlisted"
_UNLISTED_LABEL = Label("政策未列的值", "Not in the policy")


def _with_unknown(known: list[tuple[str, Label]], seen: Iterable[str]) -> list[tuple[str, Label]]:
    """The policy's keys, plus one 'unlisted' row when the data holds other values — those
    values themselves are never shown (a key outside the policy could be anything)."""
    keys = {k for k, _ in known}
    if any(s not in keys for s in seen):
        return known + [(UNLISTED, _UNLISTED_LABEL)]
    return known


def _quantile(values: list[int], which: str) -> float:
    if which == "median":
        return round(float(statistics.median(values)), 1)
    if len(values) == 1:
        return float(values[0])
    return round(float(statistics.quantiles(values, n=10, method="inclusive")[-1]), 1)


@dataclass
class _Counted:
    lat: _Lattice
    settings: PublicationSettings
    begun: tuple[str, ...]
    dims: dict[str, list[tuple[str, Label]]]
    durations: dict[tuple[str, str], list[int]]
    headline: frozenset[str] = frozenset()


def _count(
    facts: Sequence[CaseFacts],
    period: Period,
    today: dt.date,
    policy_raw: Mapping[str, Any],
    calendar: WorkingDays,
) -> _Counted:
    settings = PublicationSettings.from_policy(policy_raw)
    begun = tuple(m for m in period.months if _month_start(m) <= today)
    if not begun:
        raise PublicationError(f"period {period.id} begins after the generation date {today.isoformat()}")
    last_month = min(month_of(today), f"{period.year}-12")
    lat = _Lattice(period.year, last_month)
    year_facts = [f for f in facts if f.received.year == period.year and f.received <= today]

    def flow(name: str, select: Iterable[tuple[CaseFacts, int]]) -> None:
        counts: Counter[str] = Counter()
        for f, n in select:
            counts[f.month] += n
        lat.flow(name, counts)

    def listed(dim: str, value: str) -> str:
        return value if value in listed_keys[dim] else UNLISTED

    def flow_keyed(name: str, keys: list[str], key_of: Any, dim: str) -> None:
        per: dict[str, Counter[str]] = defaultdict(Counter)
        for f in year_facts:
            for k in key_of(f):
                per[listed(dim, k)][f.month] += 1
        for k in keys:
            lat.flow(f"{name}|{k}", per.get(k, Counter()))
        lat.flow(name, sum(per.values(), Counter()))
        lat.add(name, [f"{name}|{k}" for k in keys])

    raw = policy_raw
    dims: dict[str, list[tuple[str, Label]]] = {
        "channel": _with_unknown(_labels(raw, "channels"), (f.channel for f in year_facts)),
        "category": _with_unknown(_labels(raw, "categories"), (f.category for f in year_facts)),
        "priority": _with_unknown(_labels(raw, "priorities"), (f.priority for f in year_facts)),
        "department": _with_unknown(_labels(raw, "departments"), (d for f in year_facts for d in f.departments)),
        "stage": _with_unknown(_stage_labels(raw), (s.stage for f in year_facts for s in f.stages)),
        "reason": _with_unknown(_labels(raw, "not_accepted_reasons"), (f.not_accepted_reason or "" for f in year_facts if f.not_accepted_reason)),
        "outcome": _with_unknown(_labels(raw, "review_outcomes"), (f.review_outcome or "" for f in year_facts if f.review_outcome)),
        "resolution": _with_unknown(_labels(raw, "outcomes"), (f.outcome or "" for f in year_facts if f.outcome)),
        "satisfaction": _with_unknown(_labels(raw, "satisfaction"), (f.satisfaction or "" for f in year_facts if f.satisfaction)),
        "measure": _with_unknown(_labels(raw, "measures"), (m for f in year_facts for m in f.measures)),
        "age": [
            (k, Label(f"{k} 个工作日", f"{k} working days")) for k in settings.bucket_keys()
        ],
        "suggestion": [
            ("received", Label("收到", "Received")),
            ("adopted", Label("采纳", "Adopted")),
            ("rewarded", Label("奖励", "Rewarded")),
        ],
    }
    keys = {d: [k for k, _ in v] for d, v in dims.items()}
    listed_keys = {d: {k for k in v if k != UNLISTED} for d, v in keys.items()}

    # volumes: the case total is shared by channel, category and priority
    flow_keyed("received", keys["channel"], lambda f: [f.channel], "channel")
    for dim in ("category", "priority"):
        per: dict[str, Counter[str]] = defaultdict(Counter)
        for f in year_facts:
            per[listed(dim, getattr(f, dim))][f.month] += 1
        for k in keys[dim]:
            lat.flow(f"received.{dim}|{k}", per.get(k, Counter()))
        lat.add("received", [f"received.{dim}|{k}" for k in keys[dim]])
    flow_keyed("departments", keys["department"], lambda f: list(f.departments), "department")

    # stages: A on time, B late, C overdue; done = A+B, late = B+C, due = A+late = done+C
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s_key in keys["stage"]:
        a: Counter[str] = Counter()
        b: Counter[str] = Counter()
        c: Counter[str] = Counter()
        for f in year_facts:
            for s in f.stages:
                if s.stage != s_key:
                    continue
                if s.state == DONE_ON_TIME:
                    a[f.month] += 1
                elif s.state == DONE_LATE:
                    b[f.month] += 1
                elif s.state == OVERDUE:
                    c[f.month] += 1
                if s.working_days is not None and s.state in (DONE_ON_TIME, DONE_LATE):
                    durations[(s_key, f.month)].append(s.working_days)
        n = f"stage|{s_key}"
        lat.flow(f"{n}|ontime", a)
        lat.flow(f"{n}|latedone", b)
        lat.flow(f"{n}|overdue", c)
        lat.flow(f"{n}|done", a + b)
        lat.flow(f"{n}|late", b + c)
        lat.flow(f"{n}|due", a + b + c)
        lat.add(f"{n}|done", [f"{n}|ontime", f"{n}|latedone"])
        lat.add(f"{n}|late", [f"{n}|latedone", f"{n}|overdue"])
        lat.add(f"{n}|due", [f"{n}|ontime", f"{n}|late"])
        lat.add(f"{n}|due", [f"{n}|done", f"{n}|overdue"])

    # satisfaction
    named_followed = [f for f in year_facts if f.satisfaction is not None]
    flow("sat|yes", ((f, 1) for f in named_followed if f.satisfaction in settings.satisfied))
    flow("sat|no", ((f, 1) for f in named_followed if f.satisfaction not in settings.satisfied))
    flow("sat|all", ((f, 1) for f in named_followed))
    lat.add("sat|all", ["sat|yes", "sat|no"])
    flow_keyed("satlevel", keys["satisfaction"], lambda f: [f.satisfaction] if f.satisfaction is not None else [], "satisfaction")
    lat.add("sat|all", [f"satlevel|{k}" for k in keys["satisfaction"]])
    yes_levels = [k for k in keys["satisfaction"] if k in settings.satisfied]
    no_levels = [k for k in keys["satisfaction"] if k not in settings.satisfied]
    if yes_levels:
        lat.add("sat|yes", [f"satlevel|{k}" for k in yes_levels])
    if no_levels:
        lat.add("sat|no", [f"satlevel|{k}" for k in no_levels])

    # acceptance, extension, pause, reasons
    flow("accepted", ((f, 1) for f in year_facts if f.accepted))
    flow_keyed("notaccepted", keys["reason"], lambda f: [f.not_accepted_reason] if f.not_accepted_reason else [], "reason")
    flow("decided", ((f, 1) for f in year_facts if f.accepted or f.not_accepted_reason))
    lat.add("decided", ["notaccepted", "accepted"])
    # the same count under two names: a reader can equate them, so the relation is published
    if "decide" in keys["stage"] and all(
        lat.values[f"decided@{p}"] == lat.values[f"stage|decide|done@{p}"] for p in lat.periods
    ):
        lat.add("decided", ["stage|decide|done"])
    for flag in ("extended", "paused"):
        flow(f"{flag}|yes", ((f, 1) for f in year_facts if f.accepted and getattr(f, flag)))
        flow(f"{flag}|no", ((f, 1) for f in year_facts if f.accepted and not getattr(f, flag)))
        lat.add("accepted", [f"{flag}|yes", f"{flag}|no"])

    # reviews (over resolved cases: the resolve stage done, shared with the stage cells)
    flow("review|yes", ((f, 1) for f in year_facts if f.resolved and f.review_requested))
    flow("review|no", ((f, 1) for f in year_facts if f.resolved and not f.review_requested))
    if "resolve" in keys["stage"]:
        lat.add("stage|resolve|done", ["review|yes", "review|no"])
    # every answered review counts, a not-accepted complaint's as well as a resolved one's
    flow_keyed("reviewed", keys["outcome"], lambda f: [f.review_outcome] if f.review_outcome else [], "outcome")

    # outcomes of resolved complaints: their total is the resolve stages done
    flow_keyed("outcome", keys["resolution"], lambda f: [f.outcome] if f.resolved and f.outcome else [], "resolution")
    if "resolve" in keys["stage"] and all(
        lat.values[f"outcome@{p}"] == lat.values[f"stage|resolve|done@{p}"] for p in lat.periods
    ):
        lat.add("stage|resolve|done", ["outcome"])

    # performance by department (complaint-department pairs): on-time resolution, response, satisfaction
    for d_key in keys["department"]:
        about = [f for f in year_facts if d_key in [listed("department", d) for d in f.departments]]
        for prefix, stage in (("deptperf", "resolve"), ("deptresp", "acknowledge")):
            on: Counter[str] = Counter()
            lt: Counter[str] = Counter()
            for f in about:
                for s in f.stages:
                    if s.stage == stage:
                        if s.state == DONE_ON_TIME:
                            on[f.month] += 1
                        elif s.state in (DONE_LATE, OVERDUE):
                            lt[f.month] += 1
            n = f"{prefix}|{d_key}"
            lat.flow(f"{n}|ontime", on)
            lat.flow(f"{n}|late", lt)
            lat.flow(f"{n}|due", on + lt)
            lat.add(f"{n}|due", [f"{n}|ontime", f"{n}|late"])
        yes: Counter[str] = Counter()
        no: Counter[str] = Counter()
        for f in about:
            if f.satisfaction is not None:
                (yes if f.satisfaction in settings.satisfied else no)[f.month] += 1
        n = f"deptsat|{d_key}"
        lat.flow(f"{n}|yes", yes)
        lat.flow(f"{n}|no", no)
        lat.flow(f"{n}|all", yes + no)
        lat.add(f"{n}|all", [f"{n}|yes", f"{n}|no"])

    # measures, by kind and by the complaint's category: one total under two names
    flow_keyed("measures", keys["measure"], lambda f: list(f.measures), "measure")
    flow_keyed("catmeasures", keys["category"], lambda f: [f.category] * len(f.measures), "category")
    lat.add("measures", ["catmeasures"])

    # suggestions
    flow("sugg|received", ((f, len(f.suggestions)) for f in year_facts))
    flow("sugg|adopted", ((f, sum(1 for a_, _ in f.suggestions if a_)) for f in year_facts))
    flow("sugg|notadopted", ((f, sum(1 for a_, _ in f.suggestions if not a_)) for f in year_facts))
    flow("sugg|rewarded", ((f, sum(1 for a_, r in f.suggestions if a_ and r)) for f in year_facts))
    flow("sugg|unrewarded", ((f, sum(1 for a_, r in f.suggestions if a_ and not r)) for f in year_facts))
    lat.add("sugg|received", ["sugg|adopted", "sugg|notadopted"])
    lat.add("sugg|adopted", ["sugg|rewarded", "sugg|unrewarded"])

    # backlog at the end of every begun month (or today)
    buckets: dict[str, Counter[str]] = defaultdict(Counter)
    for m in lat.months:
        if m > last_month:
            continue
        asof = min(_month_end(m), today)
        for f in facts:
            if f.received <= asof and (f.finished is None or f.finished > asof):
                age = calendar.working_days_between(f.received, asof)
                buckets[settings.bucket_of(max(age, 0))][m] += 1
    for k in keys["age"]:
        lat.stock(f"backlog|{k}", buckets.get(k, Counter()))
    lat.stock("backlog", sum(buckets.values(), Counter()))
    lat.add("backlog", [f"backlog|{k}" for k in keys["age"]])

    return _Counted(lat, settings, begun, dims, durations, _headline(lat, keys, settings))


def _headline(lat: _Lattice, keys: Mapping[str, list[str]], settings: PublicationSettings) -> frozenset[str]:
    """Organisation-wide figures about the mechanism's own performance whose base reaches
    `min_base`: the threat model does not ask for them to be withheld when small (a count of
    late stages among many says nothing about one complainant), so the small-count rule
    leaves them out; they can still be chosen as complements, last."""
    groups: list[tuple[str, list[str]]] = []
    for s_key in keys["stage"]:
        n = f"stage|{s_key}"
        groups.append((f"{n}|due", [f"{n}|{x}" for x in ("ontime", "latedone", "overdue", "done", "late", "due")]))
    groups.append(("sat|all", ["sat|yes", "sat|no", "sat|all", "satlevel", *(f"satlevel|{k}" for k in keys["satisfaction"])]))
    groups.append(("decided", ["decided", "accepted", "notaccepted"]))
    groups.append(("accepted", ["accepted", "extended|yes", "extended|no", "paused|yes", "paused|no"]))
    if "resolve" in keys["stage"]:
        done = "stage|resolve|done"
        groups.append((done, [done, "review|yes", "review|no", "outcome", *(f"outcome|{k}" for k in keys["resolution"])]))
    out: set[str] = set()
    for base, members in groups:
        for p in lat.periods:
            if lat.values.get(lat.id(base, p), 0) >= settings.min_base:
                out.update(lat.id(m, p) for m in members if lat.id(m, p) in lat.values)
    return frozenset(out)


def _protect(counted: _Counted) -> tuple[Suppression, int]:
    """The suppression pattern for the year, audited; refuses to publish a failing one."""
    from complaints.core.audit import protect

    lat = counted.lat
    sup, result = protect(lat.values, lat.relations, counted.settings.threshold, exempt=counted.headline)
    if not result.ok:
        raise PublicationError(
            f"the disclosure audit found {len(result.exposures)} withheld cell(s) a reader can narrow down; nothing written"
        )
    return sup, result.checked


def compute_from_facts(
    facts: Sequence[CaseFacts],
    period: Period,
    today: dt.date,
    policy_raw: Mapping[str, Any],
    calendar: WorkingDays,
    *,
    data_commit: str = "unknown",
) -> StatsReport:
    """Every metric for `period` and its months, with disclosure control applied."""
    counted = _count(facts, period, today, policy_raw, calendar)
    lat, settings, begun, dims, durations = counted.lat, counted.settings, counted.begun, counted.dims, counted.durations
    keys = {d: [k for k, _ in v] for d, v in dims.items()}
    raw = policy_raw
    sup, audited = _protect(counted)

    # ---- read the cells out -------------------------------------------------------------
    def count_cell(key: str, label: Label | None, name: str, p: str) -> Cell:
        cid = lat.id(name, p)
        hidden = cid in sup
        return Cell(key, label, None if hidden else lat.values[cid], hidden)

    def rate_cell(key: str, label: Label | None, num: str, comp: str, den: str, p: str) -> Cell:
        ids = [lat.id(x, p) for x in (num, comp, den)]
        hidden = any(i in sup for i in ids)
        n, d = lat.values[ids[0]], lat.values[ids[2]]
        if hidden:
            return Cell(key, label, None, True, None, None, is_rate=True)
        return Cell(key, label, round(100.0 * n / d, 1) if d else None, False, n, d, is_rate=True)

    def quantile_cell(key: str, stage: str, label: Label | None, which: str, p: str) -> Cell:
        cid = lat.id(f"stage|{stage}|done", p)
        months = [p] if p in lat.months else lat.quarters.get(p, lat.months)
        data = [d for m in months for d in durations.get((stage, m), [])]
        if cid in sup:
            return Cell(key, label, None, True, observations=None, is_quantile=True)
        return Cell(key, label, _quantile(data, which) if data else None, False, observations=lat.values[cid], is_quantile=True)

    def rows_for(mdef: MetricDef, p: str) -> tuple[list[Cell], Cell | None]:
        mid = mdef.id
        dim = mdef.dimension
        items = dims[dim] if dim else [("all", None)]
        if mid.startswith("volume_by_"):
            name = {"channel": "received", "department": "departments"}.get(dim or "", f"received.{dim}")
            rows = [count_cell(k, lab, f"{name}|{k}", p) for k, lab in items]
            return rows, count_cell("total", Label("合计", "Total"), "received" if dim != "department" else "departments", p)
        if mid == "response_rate":
            n = "stage|acknowledge"
            return [rate_cell("all", None, f"{n}|ontime", f"{n}|late", f"{n}|due", p)], None
        if mid == "resolution_rate":
            n = "stage|resolve"
            return [rate_cell("all", None, f"{n}|done", f"{n}|overdue", f"{n}|due", p)], None
        if mid == "satisfaction_rate":
            return [rate_cell("all", None, "sat|yes", "sat|no", "sat|all", p)], None
        if mid == "on_time_rate":
            return [rate_cell(k, lab, f"stage|{k}|ontime", f"stage|{k}|late", f"stage|{k}|due", p) for k, lab in items], None
        if mid in ("working_days_median", "working_days_p90"):
            which = "median" if mid.endswith("median") else "p90"
            return [quantile_cell(k, k, lab, which, p) for k, lab in items], None
        if mid == "backlog_by_age":
            return [count_cell(k, lab, f"backlog|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "backlog", p)
        if mid == "extension_rate":
            return [rate_cell("all", None, "extended|yes", "extended|no", "accepted", p)], None
        if mid == "pause_rate":
            return [rate_cell("all", None, "paused|yes", "paused|no", "accepted", p)], None
        if mid == "not_accepted_rate":
            return [rate_cell("all", None, "notaccepted", "accepted", "decided", p)], None
        if mid == "not_accepted_reasons":
            return [count_cell(k, lab, f"notaccepted|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "notaccepted", p)
        if mid == "review_rate":
            if "resolve" not in keys["stage"]:
                return [Cell("all", None, None, False, is_rate=True)], None
            return [rate_cell("all", None, "review|yes", "review|no", "stage|resolve|done", p)], None
        if mid == "outcomes":
            return [count_cell(k, lab, f"outcome|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "outcome", p)
        if mid == "satisfaction_distribution":
            return [count_cell(k, lab, f"satlevel|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "satlevel", p)
        if mid == "department_on_time_rate":
            if "resolve" not in keys["stage"]:
                return [Cell(k, lab, None, False, is_rate=True) for k, lab in items], None
            return [rate_cell(k, lab, f"deptperf|{k}|ontime", f"deptperf|{k}|late", f"deptperf|{k}|due", p) for k, lab in items], None
        if mid == "department_response_rate":
            if "acknowledge" not in keys["stage"]:
                return [Cell(k, lab, None, False, is_rate=True) for k, lab in items], None
            return [rate_cell(k, lab, f"deptresp|{k}|ontime", f"deptresp|{k}|late", f"deptresp|{k}|due", p) for k, lab in items], None
        if mid == "department_satisfaction_rate":
            return [rate_cell(k, lab, f"deptsat|{k}|yes", f"deptsat|{k}|no", f"deptsat|{k}|all", p) for k, lab in items], None
        if mid == "review_outcomes":
            return [count_cell(k, lab, f"reviewed|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "reviewed", p)
        if mid == "measures_by_category":
            return [count_cell(k, lab, f"catmeasures|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "catmeasures", p)
        if mid == "measures_by_kind":
            return [count_cell(k, lab, f"measures|{k}", p) for k, lab in items], count_cell("total", Label("合计", "Total"), "measures", p)
        if mid == "suggestions":
            return [count_cell(k, lab, f"sugg|{k}", p) for k, lab in items], None
        raise KeyError(mid)  # pragma: no cover - every registered metric is handled above

    results = []
    for mdef in _METRIC_LIST:
        if mdef.dimension == "stage" or mdef.id in ("response_rate", "resolution_rate"):
            needed = {"response_rate": "acknowledge", "resolution_rate": "resolve"}.get(mdef.id)
            if needed and needed not in keys["stage"]:
                continue
        rows, total = rows_for(mdef, period.id)
        trend = []
        for m in begun:
            mrows, mtotal = rows_for(mdef, m)
            if mdef.kind == "rate":
                quarter = next(q for q, ms in lat.quarters.items() if m in ms)
                qrows, _ = rows_for(mdef, quarter)
                mrows = [
                    Cell(c.key, c.label, q.value, False, q.numerator, q.denominator, is_rate=True, fallback=quarter)
                    if c.suppressed and not q.suppressed
                    else c
                    for c, q in zip(mrows, qrows)
                ]
            trend.append(Slice(m, tuple(mrows), mtotal))
        others = []
        for p in [*(q for q, ms in lat.quarters.items() if ms[0] in begun), lat.year]:
            prows, ptotal = rows_for(mdef, p)
            others.append(Slice(p, tuple(prows), ptotal))
        results.append(MetricResult(mdef, tuple(rows), total, tuple(trend), tuple(others)))

    org = raw.get("organisation", {}).get("name", {}) if isinstance(raw.get("organisation"), Mapping) else {}
    return StatsReport(
        organisation=Label(str(org.get("zh", "")), str(org.get("en", ""))),
        period=period,
        months=begun,
        generated=today,
        data_commit=data_commit,
        threshold=settings.threshold,
        metrics=tuple(results),
        allow=settings.allow,
        min_base=settings.min_base,
        method=settings.method,
        audited_cells=audited,
        next_update=settings.next_update(today),
    )


def suppression_audit(
    facts: Sequence[CaseFacts], period: Period, today: dt.date, policy_raw: Mapping[str, Any], calendar: WorkingDays
) -> tuple[dict[str, int], list[Relation], Suppression]:
    """The raw cells, relations and suppression behind a report (for tests and audits; never
    published: the values are unsuppressed). The relations are every one a reader can use."""
    counted = _count(facts, period, today, policy_raw, calendar)
    lat = counted.lat
    sup, _ = _protect(counted)
    return dict(lat.values), list(lat.relations), sup


def headline_cells(
    facts: Sequence[CaseFacts], period: Period, today: dt.date, policy_raw: Mapping[str, Any], calendar: WorkingDays
) -> frozenset[str]:
    """The cells the small-count rule leaves out (organisation-wide, over at least the minimum base)."""
    return _count(facts, period, today, policy_raw, calendar).headline


# ---- the repository edge ------------------------------------------------------------------


def data_commit(root: Path) -> str:
    """HEAD of the case repository; 'uncommitted' when cases/ or policy.yml differ from it;
    'unknown' when the folder is not a git work tree (or git is missing)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=60
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "cases", "policy.yml", "calendar.yml"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if dirty.returncode != 0:
        return "unknown"
    if dirty.stdout.strip():
        return "uncommitted"
    commit = head.stdout.strip()
    return commit if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit) else "unknown"


def repository_facts(
    repo: Repository, today: dt.date, *, accept_unconfirmed: bool = False, skipped: list[str] | None = None
) -> tuple[list[CaseFacts], WorkingDays]:
    """The facts of every valid case in the repository, and the calendar they were read with;
    the invalid case files are listed in ``skipped`` when it is given."""
    from complaints.core.deadlines import case_deadlines, repository_calendar

    calendar = repository_calendar(repo, accept_unconfirmed)
    facts = []
    records = getattr(repo, "case_records", None)
    if records is not None:
        # In worker processes, and from the cache for cases no later day can change (cache.py).
        from complaints.adapters.cache import FactRecords, touch_calendar

        spans = []
        for _path, fact, span in records(today, FactRecords(repo.policy, calendar), skipped):
            facts.append(fact)
            spans.append(span)
        touch_calendar(calendar, spans)
        return facts, calendar
    for path, case in repo.iter_valid_cases(today):
        stages = case_deadlines(case, path, repo.policy, calendar, today)
        facts.append(case_facts(case, stages, calendar, today))
    return facts, calendar


def compute(
    repo: Repository, period: Period | None, today: dt.date, *, accept_unconfirmed: bool = False, skip_invalid: bool = False
) -> StatsReport:
    """Statistics of the repository's valid cases for `period` (default: the year to date),
    as of `today`, with disclosure control applied. Check with `statsreport.check_report`
    (the writers do) before publishing. A case file that does not pass validation stops
    the run (InvalidCasesError) unless ``skip_invalid``, which records how many were left out."""
    from complaints.engine.scan import left_out_or_refuse

    chosen = period or Period.year_to_date(today)
    commit = data_commit(repo.root)

    def run() -> StatsReport:
        from complaints.core.stats_history import with_history

        skipped: list[str] = []
        facts, calendar = repository_facts(repo, today, accept_unconfirmed=accept_unconfirmed, skipped=skipped)
        left_out = left_out_or_refuse(skipped, skip_invalid, "the statistics")
        report = compute_from_facts(facts, chosen, today, repo.policy.raw, calendar, data_commit=commit)
        if skip_invalid:
            report = dataclasses.replace(report, invalid_left_out=left_out)
        return with_history(report, facts, today, repo.policy.raw, calendar)

    if not getattr(repo, "use_cache", False):
        return run()
    # An unchanged archive asked the same question gets the stored answer (cache.py).
    from complaints.adapters.cache import memoized
    from complaints.engine.scan import inputs_digest

    purpose = f"stats-report-v2\x00{chosen!r}\x00{today}\x00{accept_unconfirmed}\x00{skip_invalid}\x00{commit}\x00{inputs_digest(repo)}"
    return memoized(repo.root, "stats-report", purpose, StatsReport, run)


def to_json_document(report: StatsReport) -> dict[str, Any]:
    """The document schema/stats.schema.json describes (see statsreport)."""
    from complaints.render.stats import to_json_document as build

    return build(report)
