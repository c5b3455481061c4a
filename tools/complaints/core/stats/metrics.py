"""Every metric's written definition, in one place: its label, formula text (with how open,
anonymous and transferred cases count), the lattice cells its figures are read from
(`Count`, `Rate`, `Quantile`; counted in tables.py) and the statistics page that shows it.

The JSON document, the Markdown page, the site and the README all read these definitions;
bump a metric's `version` whenever its meaning changes, and `FORMULA_VERSION` with it.
"""
from __future__ import annotations

from dataclasses import dataclass

FORMULA_VERSION = 2


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


# Where a metric's figures sit in the counting lattice (tables.py): lattice names, with
# `{key}` standing for a row's key (the dimension's key, or "all" for a single figure).


@dataclass(frozen=True)
class Count:
    """A count per row, and the total row's count when the metric has one."""

    row: str
    total: str | None = None


@dataclass(frozen=True)
class Rate:
    """numerator ÷ denominator per row; numerator + complement = denominator is a relation a
    reader can use, so the three are withheld together. Without the stage `needs_stage` in the
    policy the metric is left out (`omit`) or shown blank (`blank`)."""

    numerator: str
    complement: str
    denominator: str
    needs_stage: str | None = None
    without_stage: str = "blank"  # omit | blank


@dataclass(frozen=True)
class Quantile:
    """A quantile of the working days of the stages counted in `observations`."""

    observations: str
    which: str  # median | p90


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
    cells: Count | Rate | Quantile
    page: str  # a key of PAGES: the statistics page that shows it
    # the overview also shows it: "trend" draws a single figure in the overview's trend chart,
    # "breakdown" repeats a breakdown in full
    overview: str | None = None
    # row keys of the organisation-wide figures the history table (history.py) carries
    history: tuple[str, ...] = ()


# The statistics pages of the site (site/<lang>/statistics/), in the order of the menu.
PAGES: tuple[str, ...] = ("overview", "channels", "categories", "departments", "timeliness", "satisfaction")

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
    cells: Count | Rate | Quantile,
    page: str,
    dimension: str | None = None,
    overview: str | None = None,
    history: tuple[str, ...] = (),
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
        cells=cells,
        page=page,
        overview=overview,
        history=history,
    )


_METRIC_LIST: tuple[MetricDef, ...] = (
    _m("volume_by_channel", "按渠道的投诉量", "Complaints by channel", "count", "cases",
       "统计期内登记的投诉件数，按投诉渠道分列；合计为登记总数。",
       "Complaints received in the period, by channel; the total is all complaints received.",
       dimension="channel",
       cells=Count("received|{key}", "received"), page="channels", history=("total",)),
    _m("volume_by_category", "按类别的投诉量", "Complaints by category", "count", "cases",
       "统计期内登记的投诉件数，按投诉类别分列；合计为登记总数。",
       "Complaints received in the period, by category; the total is all complaints received.",
       dimension="category",
       cells=Count("received.category|{key}", "received"), page="categories"),
    _m("volume_by_department", "按被投诉部门的投诉量", "Complaints by department", "count", "case_departments",
       "统计期内登记的投诉，按投诉所涉部门分列：涉及多个部门的投诉在每个部门各计一次；合计为“投诉×部门”的对数。",
       "Complaints received in the period, by department complained about: a complaint about several "
       "departments counts once for each; the total is the number of complaint-department pairs.",
       dimension="department",
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it."),
       cells=Count("departments|{key}", "departments"), page="departments"),
    _m("volume_by_priority", "按紧急程度的投诉量", "Complaints by priority", "count", "cases",
       "统计期内登记的投诉件数，按紧急程度分列；合计为登记总数。",
       "Complaints received in the period, by priority; the total is all complaints received.",
       dimension="priority",
       cells=Count("received.priority|{key}", "received"), page="categories"),
    _m("response_rate", "响应率", "Response rate", "rate", "percent",
       "响应率 = 在“告知回执”时限内告知或作出不予受理决定的投诉数 ÷ “告知回执”环节已完成或已到期的投诉数 × 100%（即告知回执环节的按时率）。",
       "Response rate = complaints acknowledged (or decided not accepted) within the acknowledgement "
       "limit ÷ complaints whose acknowledgement stage is done or past due × 100% (the on-time rate "
       "of the acknowledge stage).",
       open_cases=_OPEN_STAGE,
       anonymous=Label("计入：匿名投诉以回执码告知。", "Counted: anonymous complainants are acknowledged through their receipt code."),
       transfers=_TRANSFER_STAGE,
       cells=Rate("stage|acknowledge|ontime", "stage|acknowledge|late", "stage|acknowledge|due", needs_stage="acknowledge", without_stage="omit"), page="overview", overview="trend", history=("all",)),
    _m("resolution_rate", "解决率", "Resolution rate", "rate", "percent",
       "解决率 = 已办结的受理投诉数 ÷ 已办结或“调查办结”环节已超期的受理投诉数 × 100%。",
       "Resolution rate = accepted complaints resolved ÷ accepted complaints resolved or whose "
       "resolve stage is past due × 100%.",
       open_cases=Label("已超期未办结的计入分母（算作未解决）；未到期的在办案件不计入。",
                        "An open case past its resolve due date counts in the denominator (as unresolved); "
                        "an open case not yet due is left out."),
       transfers=_TRANSFER_STAGE,
       cells=Rate("stage|resolve|done", "stage|resolve|overdue", "stage|resolve|due", needs_stage="resolve", without_stage="omit"), page="overview", overview="trend", history=("all",)),
    _m("satisfaction_rate", "满意率", "Satisfaction rate", "rate", "percent",
       "满意率 = 回访评价为“满意”或“基本满意”（见政策文件 publication.satisfied）的投诉数 ÷ 已回访的投诉数 × 100%；一件投诉以最后一次回访为准。",
       "Satisfaction rate = complaints whose follow-up answer counts as satisfied (policy "
       "publication.satisfied: satisfied, basically satisfied) ÷ complaints followed up × 100%; the "
       "last follow-up of a complaint counts.",
       open_cases=Label("只计已回访的投诉。", "Only complaints followed up count."),
       anonymous=Label("不计入：匿名投诉人无法回访。", "Not counted: anonymous complainants cannot be called back."),
       cells=Rate("sat|yes", "sat|no", "sat|all"), page="satisfaction", overview="trend", history=("all",)),
    _m("on_time_rate", "各环节按时率", "On-time rate by stage", "rate", "percent",
       "某环节按时率 = 在时限内完成的该环节数 ÷ 已完成或已到期的该环节数 × 100%；时限（含延期、中止）由截止日期引擎按政策文件计算。",
       "On-time rate of a stage = stages completed by their due date ÷ stages completed or past due × "
       "100%; due dates (with extensions and pauses) come from the deadline engine and the policy.",
       dimension="stage", open_cases=_OPEN_STAGE,
       anonymous=Label("计入；“回访”环节只适用于实名投诉。", "Counted; the follow-up stage applies to named complaints only."),
       transfers=_TRANSFER_STAGE,
       cells=Rate("stage|{key}|ontime", "stage|{key}|late", "stage|{key}|due"), page="timeliness", overview="breakdown", history=("acknowledge", "decide", "resolve")),
    _m("working_days_median", "各环节用时中位数", "Median working days by stage", "quantile", "working_days",
       "已完成环节从开始到完成所用工作日数（开始当日不计）的中位数（statistics.median）。",
       "Median of the working days from a completed stage's start to its completion (the start day "
       "not counted), by Python's statistics.median.",
       dimension="stage",
       open_cases=Label("不计入：只计已完成的环节。", "Not counted: only completed stages are measured."),
       transfers=_TRANSFER_STAGE,
       cells=Quantile("stage|{key}|done", "median"), page="timeliness"),
    _m("working_days_p90", "各环节用时第90百分位", "90th percentile of working days by stage", "quantile", "working_days",
       "已完成环节所用工作日数的第90百分位（statistics.quantiles，n=10，inclusive 方法）。",
       "90th percentile of the working days a completed stage took (statistics.quantiles, n=10, "
       "inclusive method).",
       dimension="stage",
       open_cases=Label("不计入：只计已完成的环节。", "Not counted: only completed stages are measured."),
       transfers=_TRANSFER_STAGE,
       cells=Quantile("stage|{key}|done", "p90"), page="timeliness"),
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
        cells=Count("backlog|{key}", "backlog"),
        page="timeliness",
    ),
    _m("extension_rate", "延期率", "Extension rate", "rate", "percent",
       "延期率 = 至少有一次经批准延期的受理投诉数 ÷ 受理投诉数 × 100%。",
       "Extension rate = accepted complaints with at least one approved extension ÷ accepted complaints × 100%.",
       open_cases=Label("在办的受理投诉计入分母。", "Open accepted complaints count in the denominator."),
       cells=Rate("extended|yes", "extended|no", "accepted"), page="timeliness"),
    _m("pause_rate", "中止率", "Pause rate", "rate", "percent",
       "中止率 = 至少中止过一次的受理投诉数 ÷ 受理投诉数 × 100%。",
       "Pause rate = accepted complaints paused at least once ÷ accepted complaints × 100%.",
       open_cases=Label("在办的受理投诉计入分母。", "Open accepted complaints count in the denominator."),
       cells=Rate("paused|yes", "paused|no", "accepted"), page="timeliness"),
    _m("not_accepted_rate", "不予受理率", "Not-accepted rate", "rate", "percent",
       "不予受理率 = 不予受理的投诉数 ÷ 已作出受理决定（受理或不予受理）的投诉数 × 100%。",
       "Not-accepted rate = complaints not accepted ÷ complaints decided (accepted or not) × 100%.",
       open_cases=Label("尚未作出受理决定的不计入。", "Complaints not yet decided are left out."),
       cells=Rate("notaccepted", "accepted", "decided"), page="overview", history=("all",)),
    _m("not_accepted_reasons", "不予受理理由", "Reasons for not accepting", "count", "cases",
       "不予受理的投诉数，按理由分列；合计为不予受理总数。",
       "Complaints not accepted, by reason; the total is all complaints not accepted.",
       dimension="reason",
       cells=Count("notaccepted|{key}", "notaccepted"), page="overview"),
    _m("review_rate", "复核申请率", "Review rate", "rate", "percent",
       "复核申请率 = 办结后申请复核的投诉数 ÷ 已办结的投诉数 × 100%。",
       "Review rate = resolved complaints whose answer the complainant asked to be reviewed ÷ resolved complaints × 100%.",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count."),
       cells=Rate("review|yes", "review|no", "stage|resolve|done", needs_stage="resolve"), page="satisfaction"),
    _m("review_outcomes", "复核结果", "Review outcomes", "count", "cases",
       "已答复复核的投诉数，按最后一次复核结果分列；合计为已答复复核的投诉数。",
       "Complaints whose review was answered, by the outcome of the last review; the total is all complaints with a review answered.",
       dimension="outcome",
       open_cases=Label("复核尚未答复的不计入；已办结和不予受理的投诉都计入。",
                        "Reviews not yet answered are left out; resolved and not-accepted complaints both count."),
       version=2,
       cells=Count("reviewed|{key}", "reviewed"), page="satisfaction"),
    _m("outcomes", "办结结果", "Outcomes", "count", "cases",
       "已办结的投诉数，按办结结果（属实、部分属实、不实）分列；合计为已办结的投诉数（与“办结”环节完成数相同）。",
       "Resolved complaints, by outcome (substantiated, partly, not substantiated); the total is all resolved "
       "complaints (the same count as the resolve stages done).",
       dimension="resolution",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count."),
       cells=Count("outcome|{key}", "outcome"), page="overview", overview="breakdown"),
    _m("satisfaction_distribution", "回访评价分布", "Follow-up answers", "count", "cases",
       "已回访的投诉数，按最后一次回访评价（满意、基本满意、不满意）分列；合计为已回访的投诉数（满意率的分母）。",
       "Complaints followed up, by the answer of the last follow-up (satisfied, basically satisfied, "
       "dissatisfied); the total is all complaints followed up (the satisfaction rate's denominator).",
       dimension="satisfaction",
       open_cases=Label("只计已回访的投诉。", "Only complaints followed up count."),
       anonymous=Label("不计入：匿名投诉人无法回访。", "Not counted: anonymous complainants cannot be called back."),
       cells=Count("satlevel|{key}", "satlevel"), page="satisfaction"),
    _m("department_on_time_rate", "各部门办结按时率", "On-time resolution by department", "rate", "percent",
       "某部门办结按时率 = 涉及该部门、在时限内办结的受理投诉数 ÷ 涉及该部门、已办结或办结环节已超期的受理投诉数 × 100%；涉及多个部门的投诉在每个部门各计一次。",
       "On-time resolution of a department = accepted complaints about it resolved by the due date ÷ accepted "
       "complaints about it resolved or past the resolve due date × 100%; a complaint about several departments "
       "counts once for each.",
       dimension="department", open_cases=_OPEN_STAGE,
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it."),
       cells=Rate("deptperf|{key}|ontime", "deptperf|{key}|late", "deptperf|{key}|due", needs_stage="resolve"), page="departments"),
    _m("department_response_rate", "各部门响应率", "Response rate by department", "rate", "percent",
       "某部门响应率 = 涉及该部门、在“告知回执”时限内告知的投诉数 ÷ 涉及该部门、告知回执环节已完成或已到期的投诉数 × 100%；涉及多个部门的投诉在每个部门各计一次。",
       "Response rate of a department = complaints about it acknowledged within the limit ÷ complaints about it "
       "whose acknowledgement stage is done or past due × 100%; a complaint about several departments counts once for each.",
       dimension="department", open_cases=_OPEN_STAGE,
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it."),
       cells=Rate("deptresp|{key}|ontime", "deptresp|{key}|late", "deptresp|{key}|due", needs_stage="acknowledge"), page="departments"),
    _m("department_satisfaction_rate", "各部门满意率", "Satisfaction rate by department", "rate", "percent",
       "某部门满意率 = 涉及该部门、回访评价计为满意的投诉数 ÷ 涉及该部门、已回访的投诉数 × 100%；涉及多个部门的投诉在每个部门各计一次。",
       "Satisfaction rate of a department = complaints about it whose follow-up answer counts as satisfied ÷ "
       "complaints about it followed up × 100%; a complaint about several departments counts once for each.",
       dimension="department",
       open_cases=Label("只计已回访的投诉。", "Only complaints followed up count."),
       anonymous=Label("不计入：匿名投诉人无法回访。", "Not counted: anonymous complainants cannot be called back."),
       transfers=Label("按投诉所涉部门计，不随转办改变。", "Counted under the departments complained about; a transfer does not move it."),
       cells=Rate("deptsat|{key}|yes", "deptsat|{key}|no", "deptsat|{key}|all"), page="departments"),
    _m("measures_by_kind", "处理措施", "Measures taken", "count", "measures",
       "办结时采取的处理措施（如通报批评、效能问责），按种类分列：一件投诉采取多项措施时每项各计一次；合计为措施总数。",
       "Measures taken at resolution (e.g. warnings, penalties), by kind: a complaint with several "
       "measures counts once for each; the total is the number of measures.",
       dimension="measure",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count."),
       cells=Count("measures|{key}", "measures"), page="overview"),
    _m("measures_by_category", "各类别的处理措施", "Measures taken by category", "count", "measures",
       "办结时采取的处理措施数，按投诉类别分列：一件投诉采取多项措施时每项各计一次；合计为措施总数（与“处理措施”的合计相同）。",
       "Measures taken at resolution, by the complaint's category: a complaint with several measures counts once "
       "for each; the total is the number of measures (the same as the total of measures taken).",
       dimension="category",
       open_cases=Label("只计已办结的投诉。", "Only resolved complaints count."),
       cells=Count("catmeasures|{key}", "catmeasures"), page="categories"),
    _m("suggestions", "改进建议", "Improvement suggestions", "count", "suggestions",
       "从投诉中形成的改进建议：收到数、其中采纳数、其中奖励数（奖励只适用于采纳的建议）。",
       "Improvement suggestions drawn from complaints: received, of which adopted, of which rewarded "
       "(only adopted suggestions are rewarded).",
       dimension="suggestion",
       open_cases=Label("在办投诉的建议同样计入。", "Suggestions of open complaints count too."),
       cells=Count("sugg|{key}"), page="overview"),
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
