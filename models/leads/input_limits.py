"""How long a lead's text values may be, and what a lead id may hold: one rule for every path.

A categorical value longer than any category a CRM picklist holds is a mapping mistake (an
e-mail or a note sent as the specialty), so it is refused rather than scored and stored. A lead
id is how outcomes find their scores: a blank one, one with control characters, or one padded
with spaces could never be matched again, so it is refused too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_CATEGORY_LENGTH = 128
MAX_LEAD_ID_LENGTH = 128
# InputLimits.lead_id_problem as a JSON Schema pattern, for the OpenAPI spec (the length is the
# schema's maxLength): no control character, no whitespace at either end; a lone surrogate
# cannot reach it (the body parser refuses its escape). A test holds the two to one answer.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
LEAD_ID_PATTERN = rf"^[^\s{_CONTROL}](?:[^{_CONTROL}]*[^\s{_CONTROL}])?$"


@dataclass(frozen=True, slots=True)
class InputLimits:
    max_category_length: int = MAX_CATEGORY_LENGTH
    max_lead_id_length: int = MAX_LEAD_ID_LENGTH

    def category_problem(self, value: str) -> str | None:
        """Why a categorical value is refused, or None."""
        if len(value) > self.max_category_length:
            return f"longer than {self.max_category_length} characters (got {len(value)})"
        return None

    def lead_id_problem(self, lead_id: str) -> str | None:
        """Why a lead id is refused, or None. The id is used exactly as sent, never trimmed."""
        if not lead_id.strip():
            return "is blank; expected the lead's id"
        if lead_id != lead_id.strip():
            return "has leading or trailing whitespace; send the id exactly as the CRM holds it"
        if len(lead_id) > self.max_lead_id_length:
            return f"longer than {self.max_lead_id_length} characters (got {len(lead_id)})"
        if any(unicodedata.category(c) in ("Cc", "Cs") for c in lead_id):
            return "holds a control character or invalid Unicode"
        return None


DEFAULT_LIMITS = InputLimits()
