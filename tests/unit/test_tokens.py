"""Signed tokens and the signing key (no database)."""

import os
import threading

import pytest

from gis_core import tokens
from gis_core.errors import AuthenticationError
from gis_core.passwords import check_policy, hash_password, verify_password


def test_workers_starting_together_share_one_key(tmp_path):
    path = tmp_path / "var" / "secret.key"
    keys = []
    threads = [threading.Thread(target=lambda: keys.append(tokens.load_secret(path)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(path.parent) == ["secret.key"]


def test_sign_verify_expire_and_forge():
    key = b"k" * 32
    token = tokens.sign(key, "session-1", 1_000)
    assert tokens.verify(key, token, now=999) == "session-1"
    with pytest.raises(AuthenticationError, match="hết hạn"):
        tokens.verify(key, token, now=1_000)
    with pytest.raises(AuthenticationError):
        tokens.verify(b"x" * 32, token, now=999)
    payload, mac = token[3:].split(".")
    with pytest.raises(AuthenticationError):
        tokens.verify(key, f"v1.{payload}x.{mac}", now=999)


def test_password_hashing_and_policy():
    stored = hash_password("Mường Tè 2026 an toàn")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "Mường Tè 2026 an toàn")
    assert not verify_password(stored, "Mường Tè 2026 an toàm")
    assert not verify_password(None, "anything")
    with pytest.raises(Exception, match="12"):
        check_policy("short1", "user")
