"""Words in column names that mark personal data, protected attributes or after-the-fact fields.

A contract that makes such a column a model input (or a forecast covariate) is refused: it is
how PII and bias slip into a model.
"""

from __future__ import annotations

import re

PII_TOKENS = frozenset(
    {
        "email",
        "mail",
        "phone",
        "mobile",
        "telephone",
        "fullname",
        "firstname",
        "lastname",
        "surname",
        "name",
        "address",
        "birth",
        "dateofbirth",
        "street",
        "ssn",
        "dob",
        "birthdate",
        "birthday",
        "passport",
    }
)
PROTECTED_TOKENS = frozenset(
    {
        "gender",
        "sex",
        "race",
        "ethnicity",
        "ethnic",
        "religion",
        "age",
        "ageband",
        "disability",
        "nationality",
        "marital",
        "pregnancy",
        "orientation",
    }
)
# Words in a column name that suggest it was filled in after the outcome was known.
AFTER_THE_FACT_TOKENS = frozenset(
    {
        "tags",
        "tag",
        "quality",
        "outcome",
        "stage",
        "disposition",
        "result",
        "notable",
        "closed",
        "won",
        "lost",
    }
)


def name_tokens(name: str) -> set[str]:
    """Lower-case word tokens of a column name, plus the joined name ("Full Name" -> fullname)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)  # CamelCase: MobilePhone -> Mobile Phone
    words = [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]
    return set(words) | {"".join(words)}
