"""The browser tests sign in with the accounts of the authorization tests."""

from tests.auth.conftest import communes, people  # noqa: F401
