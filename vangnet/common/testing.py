"""Shared access tests for staff pages and API endpoints: one declaration per view.

NetBox's ``ViewTestCases`` give every view the same anonymous / no-permission / permitted
tests from one declaration; these do the same for vangnet's access rule
(``accounts.access``). An app's tests subclass ``StaffViewTests`` (or ``ApiEndpointTests``),
list its views, and provide a ``scene`` fixture::

    class TestCasePages(StaffViewTests):
        views = [StaffView("cases:detail", shows_case=True),
                 StaffView("cases:note", method="post", permission=Permission.WORK_CASES, success=302,
                           data=lambda scene: {"note-text": "t"}, done=lambda scene: scene.case.notes.exists())]

        @pytest.fixture
        def scene(self, submit, helpline, other_org) -> Scene:
            return Scene(organisation=helpline, other_organisation=other_org, case=submit().report.case)

Every declared view then gets these tests, each on a fresh scene:

- anonymous: sent to the log-in page (or the declared public answer); nothing changes;
- every role in the case's organisation: the view's success where the role grants its
  permission, else the refusal that the policy below names; nothing changes when refused;
- an administrator of another organisation: 404 for a page about a case; never the case;
- an analyst: never a case, on any page;
- an inactive user: what an anonymous visitor gets; staff of an inactive organisation and a
  superuser without a membership: what someone without any permission gets.

The refusal policy, the same for every staff page: a page about one case answers 404 to
whoever may not see that case (another organisation, an analyst: the case does not exist
for her) and 403 to whoever sees it but may not do this; a page that lists cases answers
403 to whoever may view cases nowhere.

The case's reference stands for "a case file": where a test says the case is never shown,
it checks that the reference is not in the answer.

Also here: ``throwaway_postgres``, a PostgreSQL cluster of a test's own on a free loopback
port (for tests that run vangnet's real processes against it, whatever database the suite
itself uses), and ``at_the_same_moment`` for concurrency tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from vangnet.accounts.choices import ROLE_PERMISSIONS, Permission, Role
from vangnet.accounts.models import ApiToken, Membership, Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.services import Actor

# The test client's answer (an Response with .json(), .url and the request); django-stubs
# names its class privately.
Response = Any

# ---------------------------------------------------------------------------------------------
# Staff pages


@dataclass
class Scene:
    """What one access test works on: the case a view is about, its organisation, another one.

    ``objects`` holds whatever else a declaration's ``data`` and ``done`` need (a second report,
    a case to merge into, a colleague to make case owner).
    """

    organisation: Organisation
    other_organisation: Organisation
    case: Any
    objects: dict[str, Any] = field(default_factory=dict)


def _no_data(scene: Scene) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class StaffView:
    """One staff page or action, declared once for the shared access tests.

    ``permission`` is what lets a staff member through (``None``: any signed-in user);
    ``success`` the status she then gets; ``refused`` the status for staff of the case's
    organisation who may see the case (or, for a page without a case, anyone) but lack the
    permission; ``anonymous`` the status for a visitor who is not signed in (``None``: a
    redirect to the log-in page). ``done`` says whether the action took effect; it must hold
    after a success and never after a refusal. ``shows_case``: a success shows the case.
    """

    url_name: str
    method: Literal["get", "post"] = "get"
    takes_case: bool = True
    permission: str | None = Permission.VIEW_CASES
    success: int = 200
    refused: int = 403
    anonymous: int | None = None
    data: Callable[[Scene], Mapping[str, str]] = _no_data
    done: Callable[[Scene], bool] | None = None
    shows_case: bool = False
    kwargs: Callable[[Scene], Mapping[str, Any]] = _no_data  # more URL arguments (an evidence item's id)

    def __str__(self) -> str:
        return self.url_name

    def url(self, scene: Scene) -> str:
        return reverse(self.url_name, kwargs={"case_id": scene.case.pk, **self.kwargs(scene)} if self.takes_case
                       else None)

    def call(self, client: Client, scene: Scene) -> Response:
        send = client.post if self.method == "post" else client.get
        return send(self.url(scene), dict(self.data(scene)))

    def expected_status(self, permissions: frozenset[str]) -> int:
        """The answer for a signed-in user holding ``permissions`` in the case's organisation (the policy above)."""
        if self.permission is None or self.permission in permissions:
            return self.success
        if self.takes_case and Permission.VIEW_CASES not in permissions:
            return 404
        return self.refused


def is_login_redirect(response: Response) -> bool:
    login = resolve_url(settings.LOGIN_URL)
    return bool(response.status_code == 302 and str(response["Location"]).startswith(login))


def staff_url_names(prefix: str = "staff/") -> set[str]:
    """The names of every URL under ``prefix``: the pages that ``StaffViewTests`` must cover."""
    names: set[str] = set()

    def walk(patterns: Sequence[URLPattern | URLResolver], route: str, namespace: str) -> None:
        for pattern in patterns:
            full = route + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, full, inner)
            elif full.startswith(prefix) and pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "", "")
    return names


def make_user(username: str, *, organisation: Organisation | None = None, role: str = Role.HANDLER,
              **fields: Any) -> Any:
    user = get_user_model().objects.create_user(username=username, password="correct-horse-battery-staple",
                                                **fields)
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def _body(response: Response) -> str:
    return bytes(response.content).decode(errors="replace")


class StaffViewTests:
    """Subclass with ``views`` and a ``scene`` fixture; see the module docstring for what runs."""

    views: ClassVar[Sequence[StaffView]] = ()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "view" in metafunc.fixturenames:
            metafunc.parametrize("view", self.views, ids=[str(v) for v in self.views])
        if "role" in metafunc.fixturenames:
            metafunc.parametrize("role", Role.values)

    def _check(self, view: StaffView, scene: Scene, response: Response, expected: int) -> None:
        assert response.status_code == expected, (view, response.status_code, expected)
        if view.done is not None:
            assert view.done(scene) is (expected == view.success), f"{view}: done must follow the answer"
        if expected == view.success and view.shows_case:
            assert scene.case.reference in _body(response)
        elif expected != view.success:
            assert scene.case.reference not in _body(response)

    def _check_anonymous(self, view: StaffView, scene: Scene, response: Response) -> None:
        if view.anonymous is None:
            assert is_login_redirect(response), (view, response.status_code)
        else:
            assert response.status_code == view.anonymous, (view, response.status_code)
        if view.done is not None:
            assert not view.done(scene), f"{view}: an anonymous visitor changed something"
        assert scene.case.reference not in _body(response)

    @pytest.mark.django_db
    def test_anonymous_visitors_are_sent_to_log_in(self, client: Client, view: StaffView, scene: Scene) -> None:
        self._check_anonymous(view, scene, view.call(client, scene))

    @pytest.mark.django_db
    def test_each_role_gets_what_its_permissions_allow(self, client: Client, view: StaffView, role: str,
                                                       scene: Scene) -> None:
        client.force_login(make_user(f"role-{role}", organisation=scene.organisation, role=role))
        self._check(view, scene, view.call(client, scene), view.expected_status(ROLE_PERMISSIONS[role]))

    @pytest.mark.django_db
    def test_staff_of_another_organisation_never_reach_the_case(self, client: Client, view: StaffView,
                                                                scene: Scene) -> None:
        client.force_login(make_user("elsewhere", organisation=scene.other_organisation, role=Role.ADMIN))
        response = view.call(client, scene)
        if view.takes_case:
            assert response.status_code == 404, (view, response.status_code)
        if view.done is not None:
            assert not view.done(scene)
        assert scene.case.reference not in _body(response)

    @pytest.mark.django_db
    def test_an_analyst_never_sees_a_case(self, client: Client, view: StaffView, scene: Scene) -> None:
        client.force_login(make_user("ana", organisation=scene.organisation, role=Role.ANALYST))
        response = view.call(client, scene)
        if view.permission is not None:
            assert response.status_code == (404 if view.takes_case else 403), (view, response.status_code)
        if view.done is not None:
            assert not view.done(scene)
        assert scene.case.reference not in _body(response)

    @pytest.mark.django_db
    def test_an_inactive_user_is_treated_as_anonymous(self, client: Client, view: StaffView, scene: Scene) -> None:
        client.force_login(make_user("gone", organisation=scene.organisation, role=Role.ADMIN, is_active=False))
        self._check_anonymous(view, scene, view.call(client, scene))

    @pytest.mark.django_db
    def test_staff_of_an_inactive_organisation_hold_no_permission(self, client: Client, view: StaffView,
                                                                  scene: Scene) -> None:
        client.force_login(make_user("closed", organisation=scene.organisation, role=Role.ADMIN))
        Organisation.objects.filter(pk=scene.organisation.pk).update(is_active=False)
        self._check(view, scene, view.call(client, scene), view.expected_status(frozenset()))

    @pytest.mark.django_db
    def test_a_superuser_without_a_membership_holds_no_permission(self, client: Client, view: StaffView,
                                                                  scene: Scene) -> None:
        client.force_login(make_user("root", is_superuser=True, is_staff=True))
        self._check(view, scene, view.call(client, scene), view.expected_status(frozenset()))


# ---------------------------------------------------------------------------------------------
# API endpoints


@dataclass(frozen=True)
class ApiEndpoint:
    """One API operation, declared once for the shared access tests.

    ``public``: anyone may call it, with or without a token. Otherwise a partner token of an
    active organisation is needed and anything else answers 401 ``unauthorized``. ``body``
    gives the JSON to send; ``done`` says whether the call took effect (e.g. a report was
    stored): after a success it must hold, after a 401 never. An operation about one thing
    (``/reports/{receipt_code}/evidence``) gives ``url``, which makes that thing and returns the
    address to call; one that takes a multipart form gives ``files`` instead of ``body``.
    """

    method: Literal["get", "post"]
    path: str
    success: int = 200
    public: bool = False
    body: Callable[[], Any] | None = None
    done: Callable[[], bool] | None = None
    url: Callable[[], str] | None = None
    files: Callable[[], dict[str, Any]] | None = None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def call(self, client: Client, token: str | None) -> Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        path = self.url() if self.url is not None else self.path
        if self.files is not None:
            return client.post(path, data=self.files(), headers=headers)  # multipart/form-data
        if self.method == "post":
            body = json.dumps(self.body() if self.body is not None else {})
            return client.post(path, data=body, content_type="application/json", headers=headers)
        return client.get(path, headers=headers)


def api_operations(client: Client, document: str = "/api/v1/openapi.json") -> set[str]:
    """Every operation the OpenAPI document lists, as ``"METHOD /path"``: what ``ApiEndpointTests`` must cover."""
    paths = client.get(document).json()["paths"]
    return {f"{method.upper()} {path}" for path, operations in paths.items() for method in operations}


def _token(organisation: Organisation, name: str) -> str:
    _row, plain = create_api_token(organisation=organisation, name=name, actor=Actor.system("test"))
    return plain


class ApiEndpointTests:
    """Subclass with ``endpoints`` and an ``organisation`` fixture (whose token succeeds).

    Tokens are partner API tokens; a router with its own kind of credential (the moderation
    API's platform keys) overrides ``make_token`` and ``revoke_tokens``.
    """

    endpoints: ClassVar[Sequence[ApiEndpoint]] = ()

    def make_token(self, organisation: Organisation, name: str) -> str:
        return _token(organisation, name)

    def revoke_tokens(self, organisation: Organisation) -> None:
        ApiToken.objects.filter(organisation=organisation).update(revoked_at=timezone.now())

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "endpoint" in metafunc.fixturenames:
            metafunc.parametrize("endpoint", self.endpoints, ids=[str(e) for e in self.endpoints])

    def _refused(self, endpoint: ApiEndpoint, response: Response) -> None:
        if endpoint.public:
            assert response.status_code == endpoint.success, (endpoint, response.status_code)
            return
        assert response.status_code == 401, (endpoint, response.status_code)
        assert response.json()["code"] == "unauthorized"
        assert response["WWW-Authenticate"] == "Bearer"
        if endpoint.done is not None:
            assert not endpoint.done(), f"{endpoint}: a refused call changed something"

    @pytest.mark.django_db
    def test_without_a_token(self, client: Client, endpoint: ApiEndpoint) -> None:
        self._refused(endpoint, endpoint.call(client, None))

    @pytest.mark.django_db
    @pytest.mark.parametrize("token", ["", "not-a-token", "x" * 500])
    def test_with_an_unknown_token(self, client: Client, endpoint: ApiEndpoint, token: str) -> None:
        self._refused(endpoint, endpoint.call(client, token))

    @pytest.mark.django_db
    def test_with_a_revoked_token(self, client: Client, endpoint: ApiEndpoint, organisation: Organisation) -> None:
        token = self.make_token(organisation, "revoked")
        self.revoke_tokens(organisation)
        self._refused(endpoint, endpoint.call(client, token))

    @pytest.mark.django_db
    def test_with_a_token_of_an_inactive_organisation(self, client: Client, endpoint: ApiEndpoint,
                                                       organisation: Organisation) -> None:
        token = self.make_token(organisation, "closed")
        Organisation.objects.filter(pk=organisation.pk).update(is_active=False)
        self._refused(endpoint, endpoint.call(client, token))

    @pytest.mark.django_db
    def test_with_a_valid_token(self, client: Client, endpoint: ApiEndpoint, organisation: Organisation) -> None:
        response = endpoint.call(client, self.make_token(organisation, "valid"))
        assert response.status_code == endpoint.success, (endpoint, response.status_code, response.content[:300])
        if endpoint.done is not None:
            assert endpoint.done()


def at_the_same_moment(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` in ``count`` threads released together; return their results in thread order.

    For concurrency tests on PostgreSQL: each thread closes its own database connection, and
    an exception in any thread fails the test here with that exception.
    """
    import threading

    from django.db import connection

    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------------------------------------
# A throw-away PostgreSQL cluster

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                 key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()])
needs_postgres_binaries = pytest.mark.skipif(
    not PG_BINS or not (PG_BINS[-1] / "pg_ctl").exists(),
    reason="needs Debian's PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl)")


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its commands as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PostgresCluster:
    """A cluster of a test's own (trust authentication, loopback only, no fsync); ``url`` names its database."""

    pgbin: Path
    data: Path
    port: int
    database: str

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        subprocess.run(_as_postgres([str(self.pgbin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"),
                                     "-w", "start", "-o",
                                     f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"]),
                       check=True, stdout=subprocess.DEVNULL, timeout=60)

    def stop(self, mode: str) -> None:
        """``pg_ctl stop -m mode``: "immediate" is a crash as far as the clients can tell."""
        subprocess.run(_as_postgres([str(self.pgbin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


@contextmanager
def throwaway_postgres(database: str) -> Iterator[PostgresCluster]:
    """initdb a cluster in a temporary folder, start it, create ``database``; stop and remove it afterwards.

    Mark the test with ``needs_postgres_binaries``: it is skipped where Debian's server binaries are missing.
    """
    import psycopg

    data = Path(tempfile.mkdtemp(prefix="vangnet-test-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    cluster = PostgresCluster(pgbin=PG_BINS[-1], data=data, port=free_port(), database=database)
    try:
        subprocess.run(_as_postgres([str(cluster.pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        cluster.start()
        try:
            with psycopg.connect(f"postgres://postgres@127.0.0.1:{cluster.port}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
            yield cluster
        finally:
            cluster.stop("immediate")
    finally:
        shutil.rmtree(data, ignore_errors=True)
