"""Encoding one 1,000-lead answer: the stdlib JSONResponse beside Candor's orjson response.

Run after training a champion (``make demo`` or ``candor train leads``), in the same process so
both encoders see the same answer: ``python bench/json_encoding.py``. Prints medians.
"""

from __future__ import annotations

import statistics
import time

from fastapi.responses import JSONResponse

from candor.data_samples import HCP_LEADS_CSV
from candor.models.settings import get_settings
from candor.registry import LEADS, load_model
from candor.serving.responses import FastJSONResponse
from candor.serving.routers.leads import lead_result_json
from candor.serving.services.leads import LeadScoringService

REPEATS = 21


def main() -> None:
    from bench_leads import load_leads

    settings = get_settings()
    service = LeadScoringService(load_model(settings, kind=LEADS), settings.policy)
    leads = [lead for lead in load_leads(HCP_LEADS_CSV) if not lead.get("do_not_contact")][:1000]
    results = service.score(service.requests.validate(leads, limit=1000), top_k=5)
    content = {"results": [lead_result_json(r, top_k=5) for r in results]}
    for name, response in (("stdlib json", JSONResponse), ("orjson", FastJSONResponse)):
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            response(content)
            times.append(time.perf_counter() - started)
        print(f"{name:12s} {statistics.median(times) * 1000:6.2f} ms median of {REPEATS}")


if __name__ == "__main__":
    main()
