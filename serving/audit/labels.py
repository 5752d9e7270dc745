"""Keyed labels that stand in the store for text that must not be kept: a category value never
seen in training, and a forecast series' key.

Both are HMAC-SHA256 under keys derived from the pseudonymisation key with a label of their
own, so a label can never equal a lead's pseudonym (``lead_key``), whatever a client sends as a
lead id, and the derived unseen-value key can travel to scoring workers without the key that
pseudonymises lead ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from candor.serving.audit.secrets import LEAD_KEY_HEX

UNSEEN = "unseen"
UNSEEN_HEX = 16  # 64 bits: tells repeated unseen values apart, never what they were


def derived_key(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, f"candor derived key: {purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class UnseenLabel:
    """What the answer, the log and the reasons show for a category value unseen in training:
    ``unseen:<keyed hash>`` (the same value, the same label), or ``unseen`` with no key."""

    key: bytes | None = None  # derived_key(pseudonym key, "unseen category")

    @classmethod
    def keyed(cls, pseudonym_key: bytes) -> UnseenLabel:
        return cls(derived_key(pseudonym_key, "unseen category"))

    def __call__(self, value: Any) -> str:
        if self.key is None:
            return UNSEEN
        text = str(value).encode("utf-8", "surrogatepass")
        return f"{UNSEEN}:{hmac.new(self.key, text, hashlib.sha256).hexdigest()[:UNSEEN_HEX]}"


UNKEYED = UnseenLabel()  # outside the audited paths: no key, the bare word "unseen"


def series_key(pseudonym_key: bytes, series: Mapping[str, Any]) -> str:
    """The keyed hash a forecast's series is stored under: apart from every lead pseudonym."""
    canonical = json.dumps(dict(series), sort_keys=True, ensure_ascii=True, default=str)
    key = derived_key(pseudonym_key, "forecast series")
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()[:LEAD_KEY_HEX]
