"""A JSON response encoded by orjson: a 1,000-lead answer in a few milliseconds, not fifty."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # NaN never reaches an answer (inputs are refused, results are finite); orjson would
        # write it as null, so the scoring path must not produce one
        return orjson.dumps(content)
