"""Signed tree heads: the Ed25519 key that is not in the database, and what it signs.

The key comes from ``CANDOR_AUDIT_SIGNING_KEY`` (the 32-byte private key, hex) or from a key
file in ``CANDOR_HOME`` created with mode 0600 on first use. Someone who can rewrite the
database cannot sign a new tree head without it; anyone with the public key can check one.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from candor.models.errors import SettingsError
from candor.models.private_files import write_new_secret
from candor.models.settings import Settings

SIGNING_KEY_FILE = "audit-signing.key"
HEAD_CONTEXT = b"candor-audit-tree-head/v1"


@dataclass(frozen=True)
class TreeHead:
    """The log of ``tree_size`` events has ``root`` (RFC 9162 MTH), signed at ``signed_at``."""

    tree_size: int
    root: bytes
    signed_at: str  # ISO 8601, UTC, microseconds
    signature: bytes

    def message(self) -> bytes:
        return head_message(self.tree_size, self.root, self.signed_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "signed_at": self.signed_at,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TreeHead:
        return cls(
            tree_size=int(raw["tree_size"]),
            root=bytes.fromhex(str(raw["root"])),
            signed_at=str(raw["signed_at"]),
            signature=base64.b64decode(str(raw["signature"]), validate=True),
        )


def head_message(tree_size: int, root: bytes, signed_at: str) -> bytes:
    """The exact bytes signed: context, size, root (hex) and time, one per line."""
    return b"\n".join(
        [HEAD_CONTEXT, str(tree_size).encode(), root.hex().encode(), signed_at.encode()]
    )


class HeadSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()

    def sign(self, tree_size: int, root: bytes, signed_at: datetime | str) -> TreeHead:
        at = (
            signed_at
            if isinstance(signed_at, str)
            else signed_at.isoformat(timespec="microseconds")
        )
        return TreeHead(tree_size, root, at, self._key.sign(head_message(tree_size, root, at)))


def head_is_signed(head: TreeHead, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(head.signature, head.message())
    except InvalidSignature:
        return False
    return True


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise SettingsError("the audit public key is not an Ed25519 key")
    return key


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """CANDOR_AUDIT_SIGNING_KEY, or the key file under CANDOR_HOME (created, mode 0600)."""
    if settings.audit_signing_key is not None:
        raw = settings.audit_signing_key.get_secret_value().strip()
        try:
            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))
        except ValueError as exc:
            raise SettingsError(
                "CANDOR_AUDIT_SIGNING_KEY must be a 32-byte Ed25519 private key in hex "
                "(64 hex digits)"
            ) from exc
    path = Path(settings.home) / SIGNING_KEY_FILE
    if not path.exists():
        raw_key = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        write_new_secret(path, raw_key.hex())  # another process's, if it created it first
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))
    except ValueError as exc:
        raise SettingsError(f"{path} does not hold an Ed25519 private key in hex") from exc
