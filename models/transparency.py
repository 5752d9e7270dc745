"""What the service says openly about itself: the disclosure on every response and the fixed
parts of each model card (intended use, out-of-scope uses, limitations)."""

from __future__ import annotations

from dataclasses import dataclass

from candor.models.policy import ForecastReviewCode, ReviewCode

DISCLOSURE_TEXT = (
    "Machine-generated and advisory: a statistical estimate to help plan outreach, not a "
    "judgement about a person. A human decides; flagged scores go to review."
)


FORECAST_DISCLOSURE_TEXT = (
    "Machine-generated and advisory: a statistical forecast of aggregate sales with its "
    "uncertainty, to help plan; not a target or a judgement of any person. A human decides; "
    "flagged forecasts go to review."
)


def model_card_path(model_name: str) -> str:
    return f"/v1/models/{model_name}/card"


def disclosure(model_name: str, *, text: str = DISCLOSURE_TEXT) -> dict[str, str]:
    """The short disclosure that every scoring and forecast response carries."""
    return {"text": text, "model_card": model_card_path(model_name)}


@dataclass(frozen=True)
class CardText:
    title: str
    summary: str
    intended_use: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    limitations: tuple[str, ...]
    metric_prefix: str = "holdout_"  # the run metrics the card reports, prefix removed
    metric_source: str = "holdout"
    baseline_prefixes: tuple[str, ...] = ()  # baselines scored beside the model, if any
    fairness_note: str | None = None  # why no fairness audit applies, where none does


LEAD_SCORER_CARD = CardText(
    title="Candor lead scorer",
    summary=(
        "Estimates the probability that a healthcare-professional lead converts, with the reasons "
        "(SHAP contributions), a Venn-Abers confidence interval and a human-review flag."
    ),
    intended_use=(
        "Ranking and prioritising consented leads for sales and medical-information outreach.",
        "Explaining to a sales-ops user or a reviewer why a lead scored as it did.",
        "Finding leads whose score should be checked by a person before action.",
    ),
    out_of_scope=(
        "Any decision about a patient, a diagnosis, a treatment or a prescription.",
        "Decisions about a professional's eligibility, pay, employment or standing.",
        "Scoring leads who opted out of contact (they are suppressed, not scored).",
        "Use on populations unlike the training data (flagged out_of_distribution).",
        "Automated outreach without human review of flagged scores.",
    ),
    limitations=(
        "Learns from past outcomes, which reflect how sales effort was allocated: territories "
        "that received fewer rep visits converted less, and the model inherits that pattern "
        "(see the fairness results; fair call plans guarantee such segments a share).",
        "Health-derived fields are used only with data-use consent; without it the score rests "
        "on fewer inputs.",
        "The confidence interval reflects calibration uncertainty (how many similar leads the "
        "calibration data held), not every source of error.",
        "Explanations describe the model, not causes: raising a feature need not raise a lead's "
        "real chance of converting.",
    ),
)

SALES_FORECASTER_CARD = CardText(
    title="Candor sales forecaster",
    summary=(
        "Forecasts weekly units per territory and product up to 26 weeks ahead, with 80% and 95% "
        "conformal intervals, the drivers of each week (recent level, seasonality, field "
        "activity) in units, and a human-review flag."
    ),
    intended_use=(
        "Planning territory capacity, rep time, samples and stock from expected demand.",
        "Seeing how sure a forecast is (the intervals) and what moves it (the drivers).",
        "Finding series whose recent weeks broke from the model's expectations.",
    ),
    out_of_scope=(
        "Any decision about a patient, a prescriber's clinical choices or a treatment.",
        "Judging or paying individual representatives by the gap between forecast and actuals.",
        "Forecasting series the model was not trained on, or beyond its maximum horizon.",
        "Causal claims: the activity driver is an association learned from history, not the "
        "effect a new promotion will have.",
    ),
    limitations=(
        "Intervals come from the errors of a rolling-origin backtest and hold on average over "
        "series and weeks; a series in an unusual period (a launch, a shortage) can fall outside "
        "more often: the review flag watches the latest weeks for this.",
        "Future promotions and calls that are not supplied are assumed at their recent mean.",
        "Trained on aggregate sales: it holds no personal or health data about anyone.",
    ),
    metric_prefix="backtest_",
    metric_source="rolling-origin backtest",
    baseline_prefixes=("seasonal_naive_", "auto_ets_"),
    fairness_note=(
        "Not applicable as a per-person audit: the forecaster sees aggregate sales per territory "
        "and product, no person. Per-series errors and interval coverage are in the backtest "
        "table (run artifact backtest/), so that no territory is silently served worse."
    ),
)

CARDS: dict[str, CardText] = {
    "candor-lead-scorer": LEAD_SCORER_CARD,
    "candor-sales-forecaster": SALES_FORECASTER_CARD,
}


@dataclass(frozen=True)
class ReviewCodeText:
    """How a review code is put to a person (the reviewer page shows these, never its own)."""

    code: str
    kind: str  # the records the code can flag: "score" (lead scores) or "forecast"
    label: str  # its full name, as a filter offers it
    short_label: str  # as a tag beside a record
    description: str  # what the rule means, in plain words


# In the order of the policy's enums, which is the order a reviewer is offered them.
REVIEW_CODE_TEXTS: tuple[ReviewCodeText, ...] = (
    ReviewCodeText(
        ReviewCode.LOW_CONFIDENCE,
        "score",
        "Low confidence",
        "Low confidence",
        "The confidence interval is wide: few similar leads were seen in calibration.",
    ),
    ReviewCodeText(
        ReviewCode.OUT_OF_DISTRIBUTION,
        "score",
        "Unusual inputs (out of distribution)",
        "Unusual inputs",
        "Some inputs are missing or unlike anything seen in training.",
    ),
    ReviewCodeText(
        ReviewCode.NEAR_GRADE_BOUNDARY,
        "score",
        "Near a grade boundary",
        "Near grade boundary",
        "The score is close to a grade cut-off; a small change would move the grade.",
    ),
    ReviewCodeText(
        ReviewCode.RANDOM_AUDIT,
        "score",
        "Random audit",
        "Random audit",
        "Drawn at random so that reviewers also see scores no rule flagged.",
    ),
    ReviewCodeText(
        ForecastReviewCode.WIDE_INTERVAL,
        "forecast",
        "Wide interval",
        "Wide interval",
        "The 80% interval of some forecast week is wide for the forecast: the model is unsure.",
    ),
    ReviewCodeText(
        ForecastReviewCode.RECENT_BREAK,
        "forecast",
        "Recent break",
        "Recent break",
        "The latest weeks all missed their one-week-ahead forecasts on the same side: the "
        "series may have shifted.",
    ),
    ReviewCodeText(
        ForecastReviewCode.LAST_ACTUALS_OUTSIDE_INTERVAL,
        "forecast",
        "Recent actuals outside the 95% interval",
        "Recent actuals outside 95%",
        "Recent actual weeks fell outside the 95% interval forecast for them one week before.",
    ),
)
