"""The hierarchy a sales contract declares: its nodes, how a client names one, summed
histories, and reconciliation that adds up at every node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from candor.models.contract import SALES_WEEKLY, load_sales_contract
from candor.models.errors import ContractError, InputValidationError
from candor.models.forecast.hierarchy import Hierarchy
from candor.training.forecast.data import read_hierarchy, read_panel
from candor.training.forecast.reconcile import BOTTOM_UP, MIN_TRACE, projection

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data_samples" / "sales_weekly.csv"


@pytest.fixture(scope="module")
def sample() -> tuple[Hierarchy, dict]:  # type: ignore[type-arg]
    frame, panel = read_panel(SAMPLE, SALES_WEEKLY)
    hierarchy = read_hierarchy(frame, SALES_WEEKLY, panel)
    assert hierarchy is not None
    return hierarchy, panel


def test_the_sample_has_every_level_from_the_series_to_the_national_total(sample) -> None:  # type: ignore[no-untyped-def]
    hierarchy, panel = sample
    # territory -> region -> all (6 + 3 + 1) by product -> product line -> all (4 + 2 + 1)
    assert len(hierarchy.nodes) == 10 * 7
    assert hierarchy.level_labels[0] == "all/all"
    assert hierarchy.level_labels[-1] == "territory/product"
    assert set(hierarchy.bottom) == set(panel)
    s = hierarchy.summing_matrix()
    assert s.shape == (70, 24)
    assert s[hierarchy.keys.index(hierarchy.find({}).key)].sum() == 24


def test_a_node_is_named_by_one_level_per_hierarchy(sample) -> None:  # type: ignore[no-untyped-def]
    hierarchy, _ = sample
    node = hierarchy.find({"region": "North", "product_line": "Respiratory"})
    sums = hierarchy.sums(node.key)
    assert {s["territory"] for s in sums} == {"Northgate", "Highland"}
    assert {s["product"] for s in sums} == {"Bronchivent", "Flumistar"}
    assert node.level_label == "region/product_line"
    series = hierarchy.find({"territory": "Eastmoor", "product": "Glucora"})
    assert series.key == ("Eastmoor", "Glucora")
    assert hierarchy.find({"product": "Glucora"}).level_label == "all/product"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"territory": "Eastmoor", "region": "South"}, "series.region"),
        ({"region": "Atlantis"}, "series.region"),
        ({"district": "x"}, "series.district"),
    ],
)
def test_a_node_that_does_not_exist_is_refused_by_field(sample, fields, field) -> None:  # type: ignore[no-untyped-def]
    hierarchy, _ = sample
    with pytest.raises(InputValidationError) as caught:
        hierarchy.find(fields)
    assert caught.value.details[0].field == field


def test_a_node_sums_its_series_units_and_averages_their_activity(sample) -> None:  # type: ignore[no-untyped-def]
    hierarchy, panel = sample
    nodes = hierarchy.aggregate(panel)
    region = hierarchy.find({"region": "South"})
    members = [panel[hierarchy.bottom[i]] for i in region.members]
    assert len(members) == 8  # two territories, four products
    np.testing.assert_allclose(nodes[region.key].units, sum(m.units for m in members))
    calls = np.mean([m.covariates["rep_calls"] for m in members], axis=0)
    np.testing.assert_allclose(nodes[region.key].covariates["rep_calls"], calls)


def test_reconciled_forecasts_add_up_at_every_node(sample) -> None:  # type: ignore[no-untyped-def]
    hierarchy, _ = sample
    s = hierarchy.summing_matrix()
    rng = np.random.default_rng(3)
    errors = rng.normal(size=(len(hierarchy.nodes), 60))
    base = rng.gamma(5.0, 20.0, size=len(hierarchy.nodes))
    for method in (MIN_TRACE, BOTTOM_UP):
        p = projection(method, s, errors)
        coherent = s @ (p @ base)
        for node in hierarchy.nodes:
            assert coherent[hierarchy.keys.index(node.key)] == pytest.approx(
                sum(coherent[hierarchy.keys.index(hierarchy.bottom[i])] for i in node.members)
            )
    bottom_up = projection(BOTTOM_UP, s, None) @ base
    bottom_rows = [hierarchy.keys.index(k) for k in hierarchy.bottom]
    np.testing.assert_allclose(bottom_up, base[bottom_rows])


def test_a_group_over_a_wide_file_comes_from_a_mapping_file(tmp_path: Path) -> None:
    (tmp_path / "atc.csv").write_text("product,atc_group\nA1,A\nA2,A\nB1,B\n")
    (tmp_path / "contract.yaml").write_text(
        "name: wide\nversion: '1'\nlayout: {format: wide, key: product, "
        "value_columns: [A1, A2, B1], constants: {territory: shop}}\n"
        "fields:\n"
        "  - {name: week, role: date}\n"
        "  - {name: territory, role: series}\n"
        "  - {name: product, role: series}\n"
        "  - {name: atc_group, role: group, groups: product, mapping_file: atc.csv}\n"
        "  - {name: units, role: target}\n"
    )
    contract = load_sales_contract(tmp_path / "contract.yaml")
    assert dict(contract["atc_group"].mapping) == {"A1": "A", "A2": "A", "B1": "B"}
    weeks = [f"2024-01-{d:02d}" for d in (1, 8, 15)]
    rows = ["week,A1,A2,B1"] + [f"{w},1,2,3" for w in weeks]
    (tmp_path / "sales.csv").write_text("\n".join(rows) + "\n")
    frame, panel = read_panel(tmp_path / "sales.csv", contract)
    hierarchy = read_hierarchy(frame, contract, panel)
    assert hierarchy is not None
    node = hierarchy.find({"atc_group": "A"})  # the one shop is the territory
    assert hierarchy.aggregate(panel)[node.key].units.tolist() == [3.0, 3.0, 3.0]


def test_a_wide_file_group_without_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "contract.yaml").write_text(
        "name: wide\nversion: '1'\nlayout: {format: wide, key: product, "
        "value_columns: [A1], constants: {territory: shop}}\n"
        "fields:\n"
        "  - {name: week, role: date}\n"
        "  - {name: territory, role: series}\n"
        "  - {name: product, role: series}\n"
        "  - {name: atc_group, role: group, groups: product}\n"
        "  - {name: units, role: target}\n"
    )
    with pytest.raises(ContractError, match="atc_group"):
        load_sales_contract(tmp_path / "contract.yaml")


def test_a_mapping_code_yaml_would_read_as_a_number_must_be_quoted(tmp_path: Path) -> None:
    (tmp_path / "contract.yaml").write_text(
        "name: wide\nversion: '1'\nlayout: {format: wide, key: product, "
        "value_columns: ['0101'], constants: {territory: shop}}\n"
        "fields:\n"
        "  week: {role: date}\n"
        "  territory: {role: series}\n"
        "  product: {role: series}\n"
        "  atc_group: {role: group, groups: product, mapping: {0101: A}}\n"
        "  units: {role: target}\n"
    )
    with pytest.raises(ContractError, match="quote codes"):
        load_sales_contract(tmp_path / "contract.yaml")
