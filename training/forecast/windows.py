"""The backtest's two windows, sized to the history: calibration origins and scored weeks.

A series needs, before the first backtest origin, a season (52 weeks: same week last year)
and a level window (26 weeks), then ``calibration_weeks`` unscored origins and
``eval_weeks`` scored weeks: ``season + 26 + calibration + scored`` weeks in all (182 with
the default 52 + 52).

Rule, for a window the caller leaves unset (``None``):

* when the shortest series holds the default window (52 weeks) beside the other one, the
  default is used;
* otherwise the window shrinks to what the shortest series holds, in whole quarters
  (multiples of 13 weeks); when both are unset they shrink alike (140 weeks: 26 + 26);
* neither shrinks below :data:`MIN_WINDOW_WEEKS` (13 weeks; a scored window also holds at
  least the scored horizon): with both unset, a series needs at least 52 + 26 + 13 + 13 = 104
  weeks, and a shorter one is refused naming that minimum and the options.

A window the caller sets is honoured as it is; a series too short for it is refused naming
that option.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from candor.models.forecast import LEVEL_WINDOW
from candor.training.forecast.backtest import DEFAULT_WINDOW_WEEKS, BacktestConfig

MIN_WINDOW_WEEKS = 13  # the smallest sized window: a quarter
WINDOW_STEP_WEEKS = 13  # sized windows are whole quarters
CALIBRATION_OPTION = "--calibration-weeks"  # `candor train forecast`; BacktestConfig field too
EVAL_OPTION = "--eval-weeks"


@dataclass(frozen=True)
class WindowChoice:
    """The windows chosen for a history, and what a series needs for them.

    Attributes:
        config: the backtest settings with both windows set (what runs and is logged).
        shortest: weeks in the shortest series.
        minimum: weeks every series needs for these windows (the refusal names it).
        least: weeks a series needs at the least, with the windows left unset at their
            smallest (the windows set as given).
        sized: which windows were shrunk below the default to fit the shortest series.
        given: which windows the caller set (honoured as they are).
        why: what the minimum is made of, and the options that change it.
    """

    config: BacktestConfig
    shortest: int
    minimum: int
    least: int
    sized: tuple[str, ...]
    given: tuple[str, ...]
    why: str

    @property
    def fits(self) -> bool:
        return self.shortest >= self.minimum

    def describe(self) -> str:
        """One line for the training output: the windows and how they were chosen."""
        c = self.config
        windows = f"{c.calibration} calibration origins + {c.scored} scored weeks"
        if self.sized:
            also = f"; {', '.join(_option(g) for g in self.given)} as given" if self.given else ""
            how = (
                f"sized to the shortest series of {self.shortest} weeks (the default "
                f"{DEFAULT_WINDOW_WEEKS}-week windows need more; these need {self.minimum} "
                f"weeks, and a series needs at least {self.least}{also})"
            )
        elif self.given:
            how = f"{' and '.join(_option(g) for g in self.given)} as given"
            if len(self.given) == 1:
                how += ", the other at its default"
        else:
            how = f"the defaults (the shortest series has {self.shortest} weeks)"
        return f"backtest: {windows}, {how}"


def weeks_needed(*, season: int, calibration: int, scored: int) -> int:
    """Weeks a series needs for a backtest with these windows."""
    return season + LEVEL_WINDOW + calibration + scored


def choose_windows(config: BacktestConfig, *, shortest: int, season: int) -> WindowChoice:
    """Set the windows ``config`` leaves unset by the rule of the module docstring.

    Never raises: a history too short comes back with ``fits`` false and the minimum it needs
    (the caller refuses it, naming the short series).
    """
    given = tuple(
        name for name in ("calibration_weeks", "eval_weeks") if getattr(config, name) is not None
    )
    spare = shortest - weeks_needed(season=season, calibration=0, scored=0)
    min_scored = _quarters_up(max(MIN_WINDOW_WEEKS, config.horizon))
    calibration, scored = config.calibration_weeks, config.eval_weeks
    least = weeks_needed(
        season=season,
        calibration=MIN_WINDOW_WEEKS if calibration is None else calibration,
        scored=min_scored if scored is None else scored,
    )
    sized: list[str] = []
    if calibration is None and scored is None:
        each = min(DEFAULT_WINDOW_WEEKS, _quarters_down(spare // 2))
        if each < DEFAULT_WINDOW_WEEKS:
            sized = ["calibration_weeks", "eval_weeks"]
        calibration, scored = max(each, MIN_WINDOW_WEEKS), max(each, min_scored)
        why = (
            f"a backtest sized to the history needs a season ({season} weeks), a "
            f"{LEVEL_WINDOW}-week level window and at least {MIN_WINDOW_WEEKS} calibration and "
            f"{min_scored} scored weeks; for a shorter history set smaller {CALIBRATION_OPTION} "
            f"and {EVAL_OPTION}: a series then needs {season + LEVEL_WINDOW} weeks plus both"
        )
    elif scored is None:
        assert calibration is not None
        scored = _free(spare - calibration, min_scored)
        sized = ["eval_weeks"] if scored < DEFAULT_WINDOW_WEEKS else []
        why = (
            f"{calibration} calibration weeks ({CALIBRATION_OPTION}) and at least {min_scored} "
            f"scored weeks after a season ({season} weeks) and a {LEVEL_WINDOW}-week level "
            f"window; lower {CALIBRATION_OPTION}"
        )
    elif calibration is None:
        calibration = _free(spare - scored, MIN_WINDOW_WEEKS)
        sized = ["calibration_weeks"] if calibration < DEFAULT_WINDOW_WEEKS else []
        why = (
            f"{scored} scored weeks ({EVAL_OPTION}) and at least {MIN_WINDOW_WEEKS} calibration "
            f"weeks after a season ({season} weeks) and a {LEVEL_WINDOW}-week level window; "
            f"lower {EVAL_OPTION}"
        )
    else:
        why = (
            f"{calibration} calibration ({CALIBRATION_OPTION}) and {scored} scored "
            f"({EVAL_OPTION}) backtest weeks after a season ({season} weeks) and a "
            f"{LEVEL_WINDOW}-week level window; lower {CALIBRATION_OPTION} or {EVAL_OPTION}"
        )
    return WindowChoice(
        replace(config, calibration_weeks=calibration, eval_weeks=scored),
        shortest,
        weeks_needed(season=season, calibration=calibration, scored=scored),
        least,
        tuple(sized),
        given,
        why,
    )


def _free(room: int, least: int) -> int:
    """A window left unset beside a given one: the default, or the quarters that fit."""
    return max(min(DEFAULT_WINDOW_WEEKS, _quarters_down(room)), least)


def _quarters_down(weeks: int) -> int:
    return max(weeks, 0) // WINDOW_STEP_WEEKS * WINDOW_STEP_WEEKS


def _quarters_up(weeks: int) -> int:
    return -(-weeks // WINDOW_STEP_WEEKS) * WINDOW_STEP_WEEKS


def _option(field: str) -> str:
    return {"calibration_weeks": CALIBRATION_OPTION, "eval_weeks": EVAL_OPTION}[field]
