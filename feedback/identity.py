"""The reporter's identity, sealed with AES-256-GCM (the ``cryptography`` package).

Why ``cryptography`` rather than pgcrypto: the key then never reaches the database server (not in
queries, logs or ``pg_stat_statements``), and a database dump alone reveals nothing. The key is
``var/feedback.key`` (made on first use, owner-readable only, like the audit key). Each sealed
value is a fresh 12-byte nonce followed by the ciphertext, bound to its request's id (associated
data), so a ciphertext moved to another request does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gis_core.tokens import load_secret

KEY_FILE = "feedback.key"
FIELDS = ("name", "phone", "email", "id_number")


def key(var_dir: Path) -> bytes:
    """The 256-bit key under ``var_dir`` (created on first use)."""
    return load_secret(Path(var_dir) / KEY_FILE)


def seal(secret: bytes, request_id: int, identity: dict[str, str]) -> bytes:
    """Encrypt ``identity`` for request ``request_id``."""
    nonce = os.urandom(12)
    plain = json.dumps(identity, ensure_ascii=False).encode()
    return nonce + AESGCM(secret).encrypt(nonce, plain, str(request_id).encode())


def open_sealed(secret: bytes, request_id: int, sealed: bytes) -> dict[str, str]:
    """Decrypt what ``seal`` made for ``request_id`` (raises ``InvalidTag`` when altered)."""
    plain = AESGCM(secret).decrypt(sealed[:12], sealed[12:], str(request_id).encode())
    return json.loads(plain)


def pseudonym(secret: bytes, request_id: int) -> str:
    """What staff see instead of the reporter: stable per request, meaningless outside."""
    tag = hmac.new(secret, f"pseudonym:{request_id}".encode(), hashlib.sha256).hexdigest()[:8]
    return f"Người phản ánh #{tag}"
