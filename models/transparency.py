"""What the service says openly about itself: the disclosure on every response and the fixed
parts of each model card (intended use, out-of-scope uses, limitations)."""

from __future__ import annotations

from dataclasses import dataclass

DISCLOSURE_TEXT = (
    "Machine-generated and advisory: a statistical estimate to help plan outreach, not a "
    "judgement about a person. A human decides; flagged scores go to review."
)


def model_card_path(model_name: str) -> str:
    return f"/v1/models/{model_name}/card"


def disclosure(model_name: str) -> dict[str, str]:
    """The short disclosure that every scoring and forecast response carries."""
    return {"text": DISCLOSURE_TEXT, "model_card": model_card_path(model_name)}


@dataclass(frozen=True)
class CardText:
    title: str
    summary: str
    intended_use: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    limitations: tuple[str, ...]


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

CARDS: dict[str, CardText] = {"candor-lead-scorer": LEAD_SCORER_CARD}
