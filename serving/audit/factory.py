"""Build the audit store from settings: engines, migrations, keys, the log, the trusted view."""

from __future__ import annotations

import logging
from pathlib import Path

from candor.models.private_files import private_file, private_folder
from candor.models.settings import Settings
from candor.serving.audit.checkpoints import read_last_checkpoint
from candor.serving.audit.database import database_url, make_engines, migrate
from candor.serving.audit.key_snapshot import snapshot_path
from candor.serving.audit.legacy import import_legacy
from candor.serving.audit.log import AuditLog
from candor.serving.audit.sealing import payload_kek
from candor.serving.audit.secrets import missing_key_error, pseudonymisation_key
from candor.serving.audit.signing import SIGNING_KEY_FILE, HeadSigner, signing_key
from candor.serving.audit.store import AuditStore

log = logging.getLogger("candor.audit")


def open_store(
    settings: Settings, *, authenticates: bool = True, creates_keys: bool = True
) -> AuditStore:
    """Open (and migrate) the store, import an older schema, and verify the log's keys.

    A log that fails verification still opens, loudly: keys created after the first bad event
    are not trusted, and the store's ``problem`` says why (``/healthz`` reports it).
    ``authenticates=False`` (a command that writes the log but checks no API key, such as
    ``candor score batch``) skips reading the whole log to build the trusted keys.
    ``creates_keys=False`` (``candor audit verify``) raises ``audit_key_missing`` before
    anything is opened when the pseudonymisation or signing key is missing, instead of
    creating a new key, under which the log could never verify.
    """
    if creates_keys:
        private_folder(Path(settings.home))  # a new home is mode 0700
    else:
        require_signing_key(settings)
    key = pseudonymisation_key(settings, create=creates_keys)
    engines = make_engines(database_url(settings), write_timeout=settings.audit_write_timeout)
    migrate(engines.write)
    if creates_keys and not settings.checkpoint_path.exists():
        private_file(settings.checkpoint_path)  # appended to later, with the mode it has now
    audit_log = AuditLog(
        write_engine=engines.write,
        read_engine=engines.read,
        mac_key=key,
        signer=HeadSigner(signing_key(settings)),
        checkpoint_path=settings.checkpoint_path,
        write_timeout=settings.audit_write_timeout,
        payload_kek=payload_kek(key),
    )
    store = AuditStore(engines, log=audit_log, pseudonym_key=key)
    import_legacy(engines.write, audit_log)
    if authenticates:
        # from the last process's verified state when it checks out, else from the start
        store.key_snapshot = snapshot_path(settings.checkpoint_path)
        fast = store.restore_keys(store.key_snapshot, at_least=settings.audit_fast_start_events)
        store.follow()
        store.save_keys()
        if fast:  # what the snapshot covers is verified again, beside serving
            store.verify_in_background()
    last = read_last_checkpoint(settings.checkpoint_path)
    if (
        authenticates
        and last is not None
        and last.tree_size > store.keys.size
        and store.keys.problem is None
    ):
        store.warn(
            f"the checkpoint file says {last.tree_size} events were signed (at {last.signed_at}); "
            f"the database holds {store.keys.size}: its tail was cut or an older copy restored"
        )
    audit_log.probe()
    return store


def require_signing_key(settings: Settings) -> None:
    """Raise ``audit_key_missing`` where the head-signing key is neither set nor in its file."""
    path = Path(settings.home) / SIGNING_KEY_FILE
    if settings.audit_signing_key is None and not path.exists():
        raise missing_key_error(path, "CANDOR_AUDIT_SIGNING_KEY", "signing")
