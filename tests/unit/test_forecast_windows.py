"""The backtest's windows sized to the history: the defaults where they fit, quarters below,
a stated minimum, and given windows honoured; refusals name the weeks and the options."""

from __future__ import annotations

import numpy as np
import pytest

from candor.models.contract import SALES_WEEKLY
from candor.models.errors import DataValidationError
from candor.models.forecast import SeriesHistory
from candor.training.forecast.backtest import BacktestConfig
from candor.training.forecast.pipeline import size_backtest
from candor.training.forecast.windows import MIN_WINDOW_WEEKS, choose_windows, weeks_needed

SEASON = 52


def windows(weeks: int, **given: int) -> tuple[int, int]:
    choice = choose_windows(BacktestConfig(**given), shortest=weeks, season=SEASON)
    assert choice.fits
    return choice.config.calibration, choice.config.scored


def panel(*lengths: int) -> dict[tuple[str, ...], SeriesHistory]:
    return {
        ("North", f"P{i}"): SeriesHistory(
            ("North", f"P{i}"), np.datetime64("2021-01-04"), np.ones(n), {}
        )
        for i, n in enumerate(lengths)
    }


def test_defaults_where_the_shortest_series_holds_them() -> None:
    assert weeks_needed(season=SEASON, calibration=52, scored=52) == 182
    assert windows(182) == windows(300) == (52, 52)
    choice = choose_windows(BacktestConfig(), shortest=209, season=SEASON)
    assert choice.sized == () and choice.given == ()
    assert choice.describe() == (
        "backtest: 52 calibration origins + 52 scored weeks, the defaults (the shortest "
        "series has 209 weeks)"
    )


def test_a_shorter_history_shrinks_both_windows_in_quarters_down_to_the_minimum() -> None:
    assert windows(181) == (39, 39)
    assert windows(140) == (26, 26)
    assert windows(129) == (13, 13)
    assert windows(104) == (MIN_WINDOW_WEEKS, MIN_WINDOW_WEEKS)
    choice = choose_windows(BacktestConfig(), shortest=140, season=SEASON)
    assert choice.sized == ("calibration_weeks", "eval_weeks")
    assert (choice.minimum, choice.least) == (130, 104)
    line = choice.describe()
    assert line.startswith("backtest: 26 calibration origins + 26 scored weeks, sized to the ")
    assert "shortest series of 140 weeks" in line and "at least 104" in line
    too_short = choose_windows(BacktestConfig(), shortest=103, season=SEASON)
    assert not too_short.fits and too_short.minimum == 104


def test_a_longer_scored_horizon_keeps_a_scored_window_that_holds_it() -> None:
    choice = choose_windows(BacktestConfig(horizon=20), shortest=120, season=SEASON)
    assert (choice.config.calibration, choice.config.scored) == (13, 26)


def test_given_windows_are_honoured_and_the_other_is_sized_beside_them() -> None:
    assert windows(140, calibration_weeks=26, eval_weeks=12) == (26, 12)
    assert windows(300, calibration_weeks=0, eval_weeks=80) == (0, 80)
    assert windows(140, calibration_weeks=40) == (40, 13)
    assert windows(140, eval_weeks=8) == (52, 8)
    assert windows(300, calibration_weeks=26) == (26, 52)
    given = choose_windows(BacktestConfig(calibration_weeks=26), shortest=300, season=SEASON)
    assert given.describe().endswith("--calibration-weeks as given, the other at its default")


def test_too_short_with_defaults_names_the_minimum_and_the_options() -> None:
    with pytest.raises(DataValidationError) as caught:
        size_backtest(BacktestConfig(), panel(150, 90, 100), SALES_WEEKLY)
    message = caught.value.message
    assert message.startswith("2 series are too short")
    assert "'product': 'P1'}: 90 weeks" in message and "'P0'" not in message
    assert "at least 104 weeks are needed" in message
    assert "--calibration-weeks" in message and "--eval-weeks" in message
    assert caught.value.details[0].field == "units"


def test_too_short_for_a_given_window_names_that_option() -> None:
    with pytest.raises(DataValidationError) as caught:
        size_backtest(BacktestConfig(calibration_weeks=52), panel(140), SALES_WEEKLY)
    message = caught.value.message
    assert "at least 143 weeks are needed" in message  # 52 + 26 + 52 + 13
    assert "lower --calibration-weeks" in message and "--eval-weeks" not in message
    with pytest.raises(DataValidationError, match="lower --calibration-weeks or --eval-weeks"):
        size_backtest(BacktestConfig(calibration_weeks=26, eval_weeks=52), panel(140), SALES_WEEKLY)
    choice = size_backtest(BacktestConfig(), panel(140, 160), SALES_WEEKLY)
    assert (choice.config.calibration, choice.config.scored, choice.shortest) == (26, 26, 140)


def test_an_unsized_config_refuses_to_say_its_origins() -> None:
    with pytest.raises(ValueError, match="size the windows first"):
        BacktestConfig().scored_origins()
