"""The sales contract: weekly units per series, described in the same terms as the lead contract.

Each column once, with its role. Training, backtests and serving derive the series keys, the
target and the covariates (and which of them are known for future weeks) from it. A wide
export (one column per product) is described by a layout, so that a new file trains from a
YAML contract without code changes (``data_samples/contracts/pharmacy_sales_weekly.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from candor.models.contract.field_set import FieldSet
from candor.models.contract.fields import Kind
from candor.models.contract.vocabulary import PII_TOKENS, PROTECTED_TOKENS, name_tokens


class SalesRole(StrEnum):
    DATE = "date"  # the week; one field
    SERIES = "series"  # a key of the series (territory, product); at least one
    TARGET = "target"  # units sold in the week; one field
    COVARIATE = "covariate"  # a weekly driver of sales (rep calls, samples, promotions)
    GROUP = "group"  # a level of a hierarchy over a series field (region over territory)


class GapPolicy(StrEnum):
    """What a missing week inside a series means."""

    ERROR = "error"  # refuse the file, naming the series and the missing weeks
    ZERO = "zero"  # nothing was sold: the week is added with 0 units and 0 for each covariate


class WeekLabel(StrEnum):
    """Which day of its week the date column gives (calendar features use the whole week)."""

    START = "start"
    END = "end"


@dataclass(frozen=True)
class HolidayCalendar:
    """The public holidays of a country (and subdivision), as the ``holidays`` package gives them.

    Observed days are included (a holiday on a Sunday observed on the Monday flags both weeks
    where they differ), in the package's default (public) category.

    Attributes:
        country: ISO 3166-1 alpha-2 code (``US``, ``RS``, ``GB``).
        subdiv: ISO 3166-2 subdivision code within the country (``CA``, ``ENG``); ``None``:
            the national holidays only.
    """

    country: str
    subdiv: str | None = None

    @classmethod
    def from_raw(cls, raw: Any) -> HolidayCalendar | None:
        """The YAML form: ``{country: US, subdiv: CA}``, or ``US`` alone; ``None``: none.

        Raises:
            ValueError: any other form, naming the keys (a list of holiday names was the
                hand-written calendar of earlier versions, wrong outside one country).
        """
        if raw is None:
            return None
        if isinstance(raw, str):
            raw = {"country": raw}
        if not isinstance(raw, Mapping):
            raise ValueError(
                "holidays must name a country's public-holiday calendar, e.g. "
                "`holidays: {country: US, subdiv: CA}` (the holidays package); a list of "
                "holiday names is no longer read"
            )
        unknown = sorted(set(raw) - {"country", "subdiv"})
        if unknown or "country" not in raw:
            raise ValueError(f"holidays takes 'country' (required) and 'subdiv', got {sorted(raw)}")
        subdiv = raw.get("subdiv")
        return cls(str(raw["country"]), str(subdiv) if subdiv is not None else None)

    @property
    def label(self) -> str:
        """``US-CA`` or ``RS``."""
        return f"{self.country}-{self.subdiv}" if self.subdiv else self.country

    def to_dict(self) -> dict[str, str]:
        out = {"country": self.country}
        if self.subdiv:
            out["subdiv"] = self.subdiv
        return out

    def problems(self) -> list[str]:
        """Why the ``holidays`` package cannot give this calendar (empty when it can)."""
        import holidays  # about 50 ms, lazily loaded: only contracts with a calendar pay it

        supported = holidays.list_supported_countries()
        if self.country not in supported:
            return [
                f"holidays.country {self.country!r} is not a country the holidays package "
                "knows; give an ISO 3166-1 alpha-2 code such as US, GB, DE or RS"
            ]
        subdivs = supported[self.country]
        if self.subdiv is not None and self.subdiv not in subdivs:
            shown = ", ".join(subdivs[:12]) + (", ..." if len(subdivs) > 12 else "")
            return [
                f"holidays.subdiv {self.subdiv!r} is not a subdivision of {self.country} "
                f"(known: {shown or 'none'})"
            ]
        return []


MAX_SEASON_LENGTH = 52


@dataclass(frozen=True)
class SalesField:
    """One column of a weekly sales table.

    Attributes:
        name: the column name after reshaping (for a wide file: the long-format name).
        role: see :class:`SalesRole`.
        kind: covariates only: numeric or boolean (a promotion flag).
        known_in_future: covariates only: the value for a future week is known when the
            forecast is made (a planned promotion, a call plan); otherwise only its history
            is used, never its value in the forecast week.
        description: what the column holds, with its unit.
        display: a short plain-language name used in explanations.
        unit: unit of the values (units sold, calls, samples).
        groups: groups only: the field one level below, whose values this one groups (a
            series field, or a group field below this one: ``region`` groups ``territory``).
        mapping: groups only: ``(value below, group)`` pairs, when the file holds no column
            for the group (a wide file, or a mapping kept apart); empty: a column of the file.
    """

    name: str
    role: SalesRole
    kind: Kind | None = None
    known_in_future: bool = False
    description: str = ""
    display: str = ""
    unit: str = ""
    groups: str = ""
    mapping: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return self.display or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class WideLayout:
    """A wide file: one date column and one value column per series.

    Attributes:
        value_columns: the columns that hold the target, one per series.
        key: the series field whose value is the column name (for example ``product``).
    """

    value_columns: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class SalesContract(FieldSet[SalesField, SalesRole]):
    """A named, versioned description of a weekly sales table; validated on construction.

    Attributes:
        date_format: ``strptime`` format of the date column (``%m/%d/%Y``); ``None``: ISO dates.
        week_label: whether a date is the first or the last day of its week.
        wide: set for wide files; ``None`` for long files (one row per series and week).
        constants: series fields the file does not hold, with their single value (a file of
            one pharmacy: ``{"territory": "pharmacy"}``).
        gaps: what a missing week inside a series means (:class:`GapPolicy`).
        holidays: the public-holiday calendar whose weeks are flagged as a calendar feature
            (:class:`HolidayCalendar`); ``None``: no holiday feature (always 0).
        season_length: weeks in a season (52: yearly seasonality of weekly data).
    """

    name: str
    version: str
    fields: tuple[SalesField, ...]
    description: str = ""
    date_format: str | None = None
    week_label: WeekLabel = WeekLabel.START
    wide: WideLayout | None = None
    constants: tuple[tuple[str, str], ...] = ()
    gaps: GapPolicy = GapPolicy.ERROR
    holidays: HolidayCalendar | None = None
    season_length: int = MAX_SEASON_LENGTH

    TITLE = "sales contract"
    SINGLE_ROLES = (SalesRole.DATE, SalesRole.TARGET)
    TARGET_ROLE = SalesRole.TARGET

    @property
    def date_field(self) -> SalesField:
        return self.with_role(SalesRole.DATE)[0]

    @property
    def series_fields(self) -> list[SalesField]:
        return self.with_role(SalesRole.SERIES)

    @property
    def series_names(self) -> list[str]:
        return [f.name for f in self.series_fields]

    @property
    def covariates(self) -> list[SalesField]:
        return self.with_role(SalesRole.COVARIATE)

    @property
    def group_fields(self) -> list[SalesField]:
        return self.with_role(SalesRole.GROUP)

    def levels_above(self, series: str) -> list[SalesField]:
        """The group fields over a series field, finest first (``[region]`` over territory);
        empty for a series field without a hierarchy."""
        chain: list[SalesField] = []
        below = series
        while True:
            above = [f for f in self.group_fields if f.groups == below]
            if len(above) != 1:
                return chain
            chain.append(above[0])
            below = above[0].name

    @property
    def future_covariates(self) -> list[SalesField]:
        """Covariates whose value in a forecast week is known when the forecast is made."""
        return [f for f in self.covariates if f.known_in_future]

    @property
    def past_covariates(self) -> list[SalesField]:
        """Covariates used only through their history."""
        return [f for f in self.covariates if not f.known_in_future]

    @property
    def constant_values(self) -> dict[str, str]:
        return dict(self.constants)

    @property
    def file_columns(self) -> list[str]:
        """The columns the file itself must have (after the layout is taken into account)."""
        if self.wide is not None:
            return [self.date_field.name, *self.wide.value_columns]
        constants = self.constant_values
        return [
            f.name
            for f in self.fields
            if f.name not in constants and not (f.role is SalesRole.GROUP and f.mapping)
        ]

    def _settings_dict(self) -> dict[str, Any]:
        layout: dict[str, Any] = {"format": "wide" if self.wide else "long"}
        if self.date_format:
            layout["date_format"] = self.date_format
        layout["week_label"] = str(self.week_label)
        if self.wide is not None:
            layout["key"] = self.wide.key
            layout["value_columns"] = list(self.wide.value_columns)
        if self.constants:
            layout["constants"] = self.constant_values
        return {
            "layout": layout,
            "gaps": str(self.gaps),
            "holidays": self.holidays.to_dict() if self.holidays is not None else None,
            "season_length": self.season_length,
        }

    def _field_problems(self, f: SalesField) -> list[str]:
        problems = []
        if f.role is SalesRole.COVARIATE:
            if f.kind not in (Kind.NUMERIC, Kind.BOOLEAN):
                problems.append(f"covariate {f.name!r} needs kind numeric or boolean, got {f.kind}")
            tokens = name_tokens(f.name)
            if tokens & (PII_TOKENS | PROTECTED_TOKENS):
                problems.append(
                    f"covariate {f.name!r} looks like personal data or a protected attribute "
                    "and cannot drive a forecast"
                )
        elif f.kind is not None or f.known_in_future:
            problems.append(f"field {f.name!r} (role {f.role}) takes no kind or known_in_future")
        if f.role is SalesRole.GROUP:
            if not f.groups:
                problems.append(
                    f"group {f.name!r} needs `groups:`, the field one level below it "
                    "(a series field such as territory, or a finer group)"
                )
            sources = [below for below, _ in f.mapping]
            if len(set(sources)) != len(sources):
                problems.append(f"group {f.name!r}: its mapping lists a value twice")
        elif f.groups or f.mapping:
            problems.append(f"field {f.name!r} (role {f.role}) takes no groups or mapping")
        return problems

    def _set_problems(self) -> list[str]:
        problems = []
        if not self.series_fields:
            problems.append("contract needs at least one field with role series (e.g. product)")
        series = set(self.series_names)
        for name, value in self.constants:
            if name not in series:
                problems.append(
                    f"constant {name!r} is not a series field; series: {sorted(series)}"
                )
            if not str(value):
                problems.append(f"constant {name!r} needs a non-empty value")
        if self.wide is not None:
            problems += _wide_problems(self, self.wide, series)
        if self.holidays is not None:
            problems += self.holidays.problems()
        problems += _hierarchy_problems(self, series)
        if not 2 <= self.season_length <= MAX_SEASON_LENGTH:
            problems.append(
                f"season_length must be between 2 and {MAX_SEASON_LENGTH} weeks, "
                f"got {self.season_length}"
            )
        return problems


def _hierarchy_problems(contract: SalesContract, series: set[str]) -> list[str]:
    """Each group sits over one series field or one group, one group over each, no loops."""
    problems = []
    groups = {f.name: f for f in contract.group_fields}
    for f in groups.values():
        if f.groups and f.groups not in series and f.groups not in groups:
            problems.append(
                f"group {f.name!r} groups {f.groups!r}, which is neither a series field "
                f"({sorted(series)}) nor a group"
            )
    below = [f.groups for f in groups.values() if f.groups]
    twice = sorted({b for b in below if below.count(b) > 1})
    if twice:
        problems.append(
            f"more than one group over {twice}: a hierarchy is a chain (territory -> region); "
            "declare a second hierarchy over another series field"
        )
    for f in groups.values():
        seen, at = {f.name}, f.groups
        while at in groups:
            if at in seen:
                problems.append(f"groups form a loop through {f.name!r}")
                break
            seen.add(at)
            at = groups[at].groups
    in_file = [f.name for f in groups.values() if not f.mapping]
    if contract.wide is not None and in_file:
        problems.append(
            f"a wide file holds no column for group(s) {in_file}: give each a `mapping` "
            "(or `mapping_file`) from the values below it"
        )
    clash = sorted(set(groups) & set(contract.constant_values))
    if clash:
        problems.append(f"group(s) {clash} cannot also be constants")
    return problems


def _wide_problems(contract: SalesContract, wide: WideLayout, series: set[str]) -> list[str]:
    problems = []
    if wide.key not in series:
        problems.append(f"layout key {wide.key!r} must be a series field; series: {sorted(series)}")
    if wide.key in contract.constant_values:
        problems.append(f"layout key {wide.key!r} cannot also be a constant")
    if not wide.value_columns:
        problems.append("a wide layout needs at least one value column")
    if len(set(wide.value_columns)) != len(wide.value_columns):
        problems.append(f"value columns are listed twice: {list(wide.value_columns)}")
    clash = sorted(set(wide.value_columns) & set(contract.names))
    if clash:
        problems.append(f"value columns {clash} clash with field names")
    missing_keys = sorted(series - {wide.key} - set(contract.constant_values))
    if missing_keys:
        problems.append(
            f"a wide file holds no column for series field(s) {missing_keys}: give them a "
            "value under layout.constants"
        )
    if contract.covariates:
        problems.append(
            "a wide file holds one value per series and week: covariates "
            f"{[f.name for f in contract.covariates]} need a long file"
        )
    return problems
