"""The host the tests talk to (SPINGRAPH_URL, DATABASE_URL, SPINGRAPH_BIN, as clients/test sets
them) and fresh users made with `spingraph admin create-user`: one per test, so each has its own
rate-limit window."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from spingraph_client import Spingraph


@dataclass(frozen=True)
class Host:
    url: str
    database_url: str
    spingraph_bin: str


@dataclass(frozen=True)
class User:
    email: str
    password: str


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests through clients/test")
    return value


@pytest.fixture(scope="session")
def host() -> Host:
    return Host(env("SPINGRAPH_URL"), env("DATABASE_URL"), env("SPINGRAPH_BIN"))


@pytest.fixture
def new_user(host: Host) -> Callable[..., User]:
    def make(role: str = "user") -> User:
        user = User(f"py-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(18))
        subprocess.run(
            [
                host.spingraph_bin,
                "admin",
                "create-user",
                "--email",
                user.email,
                "--role",
                role,
                "--database-url",
                host.database_url,
            ],
            input=user.password + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
        return user

    return make


@pytest.fixture
def signed_in(host: Host, new_user: Callable[..., User]) -> Iterator[Spingraph]:
    user = new_user()
    with Spingraph(host.url).sign_in(user.email, user.password) as sg:
        yield sg
