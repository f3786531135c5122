"""The browser tests run on the authorization tests' database, application and accounts."""

from tests.auth.conftest import (  # noqa: F401
    app,
    client,
    communes,
    database_url,
    live_url,
    people,
    settings,
)
