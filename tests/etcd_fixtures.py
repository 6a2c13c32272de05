"""pytest fixtures for real etcd clusters (see etcd_cluster.py).

Register them for the whole suite with one line in tests/conftest.py:

    from etcd_fixtures import etcd, etcd3, etcd_secure, etcd_shared, etcd_prefix  # noqa: E402,F401

or import them the same way into a single test module. Every fixture stops
its members when the test ends, passed or failed; a member that cannot start
fails the test (EtcdUnavailable), it is never skipped.

- etcd: a fresh one-member cluster for one test (about 0.3 s to start).
- etcd3: a fresh three-member cluster for one test, to kill and restart members in.
- etcd_secure: one member with TLS (a throwaway CA) and auth on; cluster.client_env()
  gives the AGENT_SYNC_ETCD_CA / _USER / _PASSWORD a client needs. Its tokens expire
  after 1 s without use, so clients that pause exercise logging in again.
- etcd_shared: one member for the whole session (per xdist worker), for tests that
  only read and write; pair it with etcd_prefix so tests never see each other's keys.
- etcd_prefix: a key prefix unique to the test.
"""

import uuid

import pytest

from etcd_cluster import Cluster


@pytest.fixture
def etcd():
    with Cluster(1) as cluster:
        yield cluster


@pytest.fixture
def etcd3():
    with Cluster(3) as cluster:
        yield cluster


@pytest.fixture
def etcd_secure():
    with Cluster(1, tls=True, auth=True, auth_token_ttl=1) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def etcd_shared():
    with Cluster(1) as cluster:
        yield cluster


@pytest.fixture
def etcd_prefix():
    return f"test-{uuid.uuid4().hex[:12]}/"
