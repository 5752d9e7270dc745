"""The HTTP shapes of erasure on request."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    lead_id: str | int = Field(description="the lead id the scores were requested with")
    reason: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"\S",  # not blank: the spec states it, so a blank reason is refused here
        description="why the lead's data are erased (kept in the audit log), for example "
        "'the HCP asked to be forgotten (ticket 4411)'",
    )


class ErasureOut(BaseModel):
    lead_key: str = Field(description="the lead's keyed pseudonym; never the raw id")
    seq: int = Field(description="the erasure event's position in the audit log")
    erased_at: str = Field(description="ISO 8601, UTC")
    records: int = Field(
        description="score records whose inputs and explanation can no longer be read; the "
        "records themselves stay, and the log still verifies"
    )
    reason: str
    unsealed_records: int = Field(
        description="the lead's score records written before payloads were sealed (an older "
        "log): their inputs are part of the signed log itself and could not be erased; 0 for "
        "every record written since"
    )
    scrubbed: bool = Field(
        description="the database files were cleared of the deleted bytes too (SQLite: its "
        "write-ahead log truncated; PostgreSQL: the key table vacuumed); false: a reader held "
        "the log, so the old pages stay until its next checkpoint (the data are unreadable "
        "either way)"
    )
