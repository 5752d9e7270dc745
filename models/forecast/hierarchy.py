"""The hierarchy a sales contract declares over its series: nodes, the summing matrix, sums.

A contract's group fields (role ``group``) stack over its series fields: ``region`` groups
``territory``, ``product_line`` groups ``product``. Each series field with groups is a
*dimension* whose levels are, finest first, the series field, its groups and the total
(``all``); a series field without groups has its own level only. A *node* picks one level per
dimension and one value at each: ``{region: Northeast, product_line: Respiratory}``, or ``{}``
for the national total. The bottom nodes are the series themselves.

Every node's weekly units are the sum of its series' (the rows of the summing matrix ``S``,
nodes x series, as Nixtla's ``hierarchicalforecast`` reads it). A node's covariates are the
**mean** of its series' (calls per series, the share of series on promotion), so that they stay
in the range the series' own are in and one global model serves every level.

Node keys: a node is stored under a key of one value per series field, as a series is: the
series' own value at the bottom, ``"<group>=<value>"`` for a group (``"region=Northeast"``)
and ``"all"`` for a dimension's total. Those keys are what the forecaster's categorical
features code; clients name nodes by fields (:meth:`Hierarchy.find`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from candor.models.contract import SalesContract
from candor.models.errors import ErrorDetail, InputValidationError
from candor.models.forecast.history import SeriesHistory

Key = tuple[str, ...]
TOTAL = "all"


@dataclass(frozen=True)
class Dimension:
    """One series field and the groups over it, finest first (``territory``, ``region``)."""

    series: str
    groups: tuple[str, ...]
    # per group: value below -> group value (the level below is the series or the finer group)
    parents: tuple[dict[str, str], ...]

    @property
    def levels(self) -> tuple[str, ...]:
        """Level names, finest first; the total (``all``) only where there are groups."""
        return (self.series, *self.groups, TOTAL) if self.groups else (self.series,)

    def label(self, value: str, level: int) -> str:
        """The node-key label of a series value at a level (0: the value itself)."""
        if level == 0:
            return value
        if level > len(self.groups):
            return TOTAL
        for step in range(level):
            value = self.parents[step][value]
        return f"{self.groups[level - 1]}={value}"


@dataclass(frozen=True)
class Node:
    key: Key  # one label per series field (see the module docstring)
    level: tuple[str, ...]  # per series field, the level's name (territory, region, all)
    fields: dict[str, str]  # how a client names it: {region: Northeast, product: Glucora}
    members: tuple[int, ...]  # indices of the series (bottom nodes) it sums

    @property
    def level_label(self) -> str:
        """``region/product_line``; ``all/all`` for the national total."""
        return "/".join(self.level)


@dataclass(frozen=True)
class Hierarchy:
    """Every node of a contract's hierarchy over a set of series.

    Attributes:
        series_names: the contract's series fields, in key order.
        dimensions: one per series field.
        bottom: the series keys, in the summing matrix's column order.
        nodes: every node, coarsest levels first and the series (bottom) last.
    """

    series_names: tuple[str, ...]
    dimensions: tuple[Dimension, ...]
    bottom: tuple[Key, ...]
    nodes: tuple[Node, ...]

    @classmethod
    def build(
        cls,
        contract: SalesContract,
        bottom: Iterable[Key],
        parents: Mapping[str, Mapping[str, str]],
    ) -> Hierarchy:
        """The nodes over ``bottom`` series, ``parents[group][value below] = group value``.

        Raises:
            ValueError: a value below with no group, or a node key that clashes with a
                series value.
        """
        dims = []
        for name in contract.series_names:
            groups = tuple(f.name for f in contract.levels_above(name))
            dims.append(Dimension(name, groups, tuple(dict(parents[g]) for g in groups)))
        keys = tuple(sorted(tuple(k) for k in bottom))
        for d, dim in enumerate(dims):
            values = sorted({k[d] for k in keys})
            for step, group in enumerate(dim.groups):
                missing = [v for v in values if v not in dim.parents[step]]
                if missing:
                    raise ValueError(
                        f"group {group!r} gives no value for {missing[:5]} of "
                        f"{(dim.series, *dim.groups)[step]!r}"
                    )
                values = sorted({dim.parents[step][v] for v in values})
        choices = _level_choices([len(d.levels) for d in dims])
        nodes: list[Node] = []
        index = {k: i for i, k in enumerate(keys)}
        for levels in choices:
            members: dict[Key, list[int]] = {}
            for k in keys:
                label = tuple(dims[d].label(k[d], lv) for d, lv in enumerate(levels))
                members.setdefault(label, []).append(index[k])
            for label in sorted(members):
                fields = {}
                for d, lv in enumerate(levels):
                    name = dims[d].levels[lv]
                    if lv == 0:
                        fields[name] = label[d]
                    elif name != TOTAL:
                        fields[name] = label[d].split("=", 1)[1]
                names = tuple(dims[d].levels[lv] for d, lv in enumerate(levels))
                nodes.append(Node(label, names, fields, tuple(members[label])))
        out = cls(tuple(contract.series_names), tuple(dims), keys, tuple(nodes))
        clash = {n.key for n in out.aggregates} & set(keys)
        if clash:
            raise ValueError(f"series keys {sorted(clash)[:3]} clash with node labels")
        return out

    # --- what it holds ----------------------------------------------------------------------

    @property
    def is_trivial(self) -> bool:
        """No dimension has groups: the series are the only nodes."""
        return all(not d.groups for d in self.dimensions)

    @property
    def aggregates(self) -> list[Node]:
        bottom = set(self.bottom)
        return [n for n in self.nodes if n.key not in bottom]

    @property
    def field_names(self) -> list[str]:
        """The fields a client names a node by: each hierarchy's levels but its total."""
        return [lv for d in self.dimensions for lv in d.levels if lv != TOTAL]

    @property
    def keys(self) -> list[Key]:
        return [n.key for n in self.nodes]

    @property
    def level_labels(self) -> list[str]:
        """Every level, coarsest first (``all/all`` ... ``territory/product``)."""
        return list(dict.fromkeys(n.level_label for n in self.nodes))

    def node(self, key: Key) -> Node:
        return self._by_key()[tuple(key)]

    def get(self, key: Key) -> Node | None:
        return self._by_key().get(tuple(key))

    def _by_key(self) -> dict[Key, Node]:
        cache: dict[Key, Node] | None = self.__dict__.get("_nodes_by_key")
        if cache is None:
            cache = {n.key: n for n in self.nodes}
            object.__setattr__(self, "_nodes_by_key", cache)
        return cache

    def summing_matrix(self) -> np.ndarray:
        """``S``: nodes x series, 1 where the node sums the series."""
        s = np.zeros((len(self.nodes), len(self.bottom)))
        for i, n in enumerate(self.nodes):
            s[i, list(n.members)] = 1.0
        return s

    def tags(self) -> dict[str, np.ndarray]:
        """Level label -> the node keys at it, as hierarchicalforecast's ``tags``."""
        out: dict[str, list[str]] = {}
        for n in self.nodes:
            out.setdefault(n.level_label, []).append("|".join(n.key))
        return {k: np.array(v) for k, v in out.items()}

    def sums(self, key: Key) -> list[dict[str, str]]:
        """The series a node adds up, each by field."""
        return [
            dict(zip(self.series_names, self.bottom[i], strict=True))
            for i in self.node(key).members
        ]

    # --- naming a node ----------------------------------------------------------------------

    def find(self, fields: Mapping[str, str]) -> Node:
        """The node a client names: one level per dimension (a series field or a group); a
        dimension left out is its total.

        Raises:
            InputValidationError: an unknown field, two levels of one dimension, a dimension
                without a total left out, or a value with no such node; each names the field.
        """
        known = set(self.field_names)
        unknown = sorted(set(fields) - known)
        if unknown:
            raise InputValidationError(
                f"{unknown} name no level of this model's hierarchy; levels: {sorted(known)}",
                [ErrorDetail(f"series.{n}", "not a level of the hierarchy") for n in unknown],
            )
        labels = []
        for dim in self.dimensions:
            given = [lv for lv in dim.levels if lv in fields]
            if len(given) > 1:
                raise InputValidationError(
                    f"give one of {given} (levels of one hierarchy), not both",
                    [ErrorDetail(f"series.{given[-1]}", "two levels of one hierarchy")],
                )
            if not given:
                values = {k[self.dimensions.index(dim)] for k in self.bottom}
                if not dim.groups and len(values) == 1:  # a constant (one pharmacy)
                    labels.append(next(iter(values)))
                    continue
                if not dim.groups:
                    raise InputValidationError(
                        f"series field {dim.series!r} is required (it has no total)",
                        [ErrorDetail(f"series.{dim.series}", "missing")],
                    )
                labels.append(TOTAL)
            elif given[0] == dim.series:
                value = str(fields[dim.series])
                if value not in self._values(dim):  # not a node's label posing as a series
                    raise InputValidationError(
                        f"{dim.series} {_shown(value)} is unknown to this model's hierarchy",
                        [ErrorDetail(f"series.{dim.series}", "unknown value")],
                    )
                labels.append(value)
            else:
                labels.append(f"{given[0]}={fields[given[0]]}")
        key = tuple(labels)
        node = self._by_key().get(key)
        if node is None:
            wrong = [n for n in fields]
            shown = {k: _shown(str(v)) for k, v in fields.items()}
            raise InputValidationError(
                f"no series or node {shown} in this model's hierarchy",
                [ErrorDetail(f"series.{wrong[-1]}", "unknown value")],
            )
        return node

    def _values(self, dim: Dimension) -> set[str]:
        d = self.dimensions.index(dim)
        return {k[d] for k in self.bottom}

    # --- histories --------------------------------------------------------------------------

    def aggregate(self, histories: Mapping[Key, SeriesHistory]) -> dict[Key, SeriesHistory]:
        """Every node's history from its series': units summed, covariates averaged.

        The series end on the same week (training checks it); a node starts at the earliest
        of its series, a series counting 0 units (and no covariates) before its first week.
        """
        series = [histories[k] for k in self.bottom]
        out: dict[Key, SeriesHistory] = {}
        for node in self.nodes:
            members = [series[i] for i in node.members]
            if len(members) == 1 and node.key == members[0].key:
                out[node.key] = members[0]
                continue
            out[node.key] = _summed(node.key, members)
        return out

    # --- persistence ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "series_names": list(self.series_names),
            "dimensions": [
                {"series": d.series, "groups": list(d.groups), "parents": list(d.parents)}
                for d in self.dimensions
            ],
            "bottom": [list(k) for k in self.bottom],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], contract: SalesContract) -> Hierarchy:
        parents: dict[str, dict[str, str]] = {}
        for d in raw["dimensions"]:
            for group, mapping in zip(d["groups"], d["parents"], strict=True):
                parents[group] = dict(mapping)
        return cls.build(contract, [tuple(k) for k in raw["bottom"]], parents)


def _shown(value: str, limit: int = 40) -> str:
    """A client's value as an error quotes it: at most ``limit`` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _level_choices(sizes: Sequence[int]) -> list[tuple[int, ...]]:
    """Every combination of one level per dimension, coarsest (highest level sum) first."""
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij"), -1)
    combos = [tuple(int(v) for v in row) for row in grid.reshape(-1, len(sizes))]
    return sorted(combos, key=lambda c: (-sum(c), tuple(-v for v in c)))


def _summed(key: Key, members: Sequence[SeriesHistory]) -> SeriesHistory:
    last = members[0].last_week
    first = min(m.first_week for m in members)
    n = int((last - first).astype(np.int64) // 7) + 1
    units = np.zeros(n)
    names = list(members[0].covariates)
    total = {c: np.zeros(n) for c in names}
    count = np.zeros(n)
    for m in members:
        start = n - len(m)
        units[start:] += m.units.astype(float)
        count[start:] += 1.0
        for c in names:
            total[c][start:] += m.covariates[c][: len(m)].astype(float)
    covariates = {c: total[c] / np.maximum(count, 1.0) for c in names}
    return SeriesHistory(key, first, units, covariates)


def parents_from_frame(frame: Any, contract: SalesContract) -> dict[str, dict[str, str]]:
    """Per group, each value below -> its group, from the group's mapping or its column.

    Raises:
        ValueError: (naming the group) a value below in two groups, an empty group value.
    """
    out: dict[str, dict[str, str]] = {}
    for f in contract.group_fields:
        if f.mapping:
            out[f.name] = dict(f.mapping)
            continue
        empty = frame[f.name].isna() | (frame[f.name].astype(str).str.strip() == "")
        if empty.any():
            raise ValueError(
                f"group column {f.name!r} is empty in {int(empty.sum())} row(s); every "
                f"{f.groups} needs its {f.name}"
            )
        pairs = frame[[f.groups, f.name]].astype(str).drop_duplicates()
        twice = pairs[pairs[f.groups].duplicated(keep=False)]
        if len(twice):
            shown = twice.head(4).to_dict("records")
            raise ValueError(
                f"group column {f.name!r} puts one {f.groups!r} in more than one group, e.g. "
                f"{shown}; each {f.groups} belongs to one {f.name}"
            )
        out[f.name] = dict(zip(pairs[f.groups], pairs[f.name], strict=True))
    return out
