"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gis_core.errors import ValidationError

MIN_LENGTH = 12
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("not-a-real-password-0")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, with the library's current cost)."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; a missing hash still costs one verification."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_policy(password: str, username: str) -> None:
    """Refuse a weak password: at least 12 characters, letters and digits, not the user name."""
    problems_vi, problems_en = [], []
    if len(password) < MIN_LENGTH:
        problems_vi.append(f"ít nhất {MIN_LENGTH} ký tự")
        problems_en.append(f"at least {MIN_LENGTH} characters")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems_vi.append("có cả chữ và số")
        problems_en.append("both letters and digits")
    if username and username.lower() in password.lower():
        problems_vi.append("không chứa tên đăng nhập")
        problems_en.append("must not contain the user name")
    if problems_vi:
        raise ValidationError(
            "Mật khẩu chưa đạt yêu cầu: " + ", ".join(problems_vi) + ".",
            message_en="The password is too weak: " + ", ".join(problems_en) + ".",
            parameter="password",
        )
