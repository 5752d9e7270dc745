"""The HTTP shapes of the audit log as auditors read it: who read a record, that a record
exists with its state and inclusion proof, and the verification of the whole log. None of
them carries a record's inputs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class AccessOut(BaseModel):
    read_by: str
    read_at: str
    seq: int


class AccessLogOut(BaseModel):
    score_id: str
    reads: list[AccessOut]


class ProofOut(BaseModel):
    leaf: str = Field(description="the leaf as hashed: envelope, public body, payload digest")
    leaf_index: int
    tree_head: dict[str, Any] = Field(description="the signed tree head the proof is under")
    inclusion_path: list[str]
    public_key: str = Field(description="Ed25519 public key (PEM) that signs the tree heads")


class RecordStateOut(BaseModel):
    score_id: str
    kind: Literal["score", "suppression", "forecast"]
    seq: int = Field(description="the record's position in the log")
    created_at: str
    model: str = Field(description="name@version")
    state: Literal["sealed", "erased", "purged", "removed", "altered", "clear"] = Field(
        description="sealed: inputs kept, readable by reviewers; erased / purged: removed by an "
        "erasure or retention purge in the log; removed / altered: gone or changed with no "
        "such event (verify reports it); clear: never sealed (forecasts, suppressions, older "
        "records)"
    )
    removed_at: str | None = Field(
        None, description="when the erasure or purge that removed the payload was logged"
    )
    proof: ProofOut


class ProblemOut(BaseModel):
    position: int
    kind: str
    detail: str


class VerifyOut(BaseModel):
    ok: bool
    events: int
    heads: int
    checkpoints: int
    problems: list[ProblemOut]
    more: int = Field(description="problems found beyond those listed")
