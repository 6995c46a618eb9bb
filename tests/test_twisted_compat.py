"""
Twisted's own endpoint tests, run against our endpoints.

Each class below subclasses a test class of the installed Twisted's
C{twisted.internet.test.test_endpoints} and, for the duration of each test,
points the names that module reaches through C{endpoints.*} at our classes.

Three kinds of change are made, each marked where it is made:

  - Twisted's tests read a few private attributes of Twisted's own
    implementation (C{_DEFAULT_ATTEMPT_DELAY}, the wrapping factory's
    C{_connector}, C{_hostBytes}/C{_hostText}); L{_privateNames} maps them
    to ours without changing any assertion.
  - A builder hook (C{createClientEndpoint}) is overridden where Twisted's
    version resolves through a private method instead of
    C{reactor.nameResolver}, or expects a name handed unresolved to
    C{connectTCP}.
  - Tests that depend on a behaviour we deliberately change are skipped,
    each citing the documentation page and section that states the
    difference (docs/migrating.rst and docs/happy-eyeballs.rst).
"""

from __future__ import annotations

import inspect
from socket import AF_INET6, IPPROTO_TCP, SOCK_STREAM
from typing import Any

from twisted.internet import defer, endpoints
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.test import test_endpoints as T
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SkipTest

from txendpoints import (
    HostClientEndpoint,
    StandardIOServerEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    TCP6ClientEndpoint,
    TCP6ServerEndpoint,
)
from txendpoints._client._arguments import _hostText
from txendpoints._client._attempt import _Attempt

OURS: dict[str, Any] = {
    "TCP4ServerEndpoint": TCP4ServerEndpoint,
    "TCP6ServerEndpoint": TCP6ServerEndpoint,
    "TCP4ClientEndpoint": TCP4ClientEndpoint,
    "TCP6ClientEndpoint": TCP6ClientEndpoint,
    "HostnameEndpoint": HostClientEndpoint,
    "StandardIOEndpoint": StandardIOServerEndpoint,
}

#: Why a test is skipped: the documented difference it would undo, cited
#: by page and section so that a reader of the skip can look it up.
NAME_RESOLVER = (
    "docs/migrating.rst, 'Names go through the reactor': we have no "
    "deferToThread/getaddrinfo path"
)
NO_RESOLVER = (
    NAME_RESOLVER + " to deprecate: a reactor without nameResolver fails "
    "connect with a DNSLookupError that says so"
)
EVERY_ADDRESS = (
    "docs/migrating.rst, 'Clients': our TCP6ClientEndpoint tries every "
    "AAAA record (all three here) and wraps several failures in "
    "ConnectAttemptsError; Twisted's tries only the first"
)
CANCEL_ADDRESS = (
    "docs/migrating.rst, 'Clients': Twisted's TCP6ClientEndpoint hands one "
    "resolved address to connectTCP, so its ConnectingCancelledError "
    "carries that address; ours races every address and carries the host "
    "as given, in the same IPv6Address type"
)
TWO_QUERIES = (
    "docs/happy-eyeballs.rst, 'Resolution Delay (section 3)': AAAA and A "
    "are asked as two queries (RFC 8305 section 3), so this "
    "fake getaddrinfo's error is logged once per family, twice"
)
REPR = (
    "docs/migrating.rst, 'Endpoints describe themselves': our repr reads "
    "like the endpoint string that would build it "
    "(<HostClientEndpoint tx-host:example.com:80>)"
)
STDIO_PORT = (
    "docs/migrating.rst, 'stdio:': our listen fires with an "
    "IListeningPort, not the StandardIO transport, and our transport is "
    "our own StandardIO subclass"
)


def _skip(reason: str) -> Any:
    """
    @return: A test method that is skipped with C{reason}.
    """

    def test(self: object) -> None:
        raise SkipTest(reason)

    test.skip = reason  # type: ignore[attr-defined]
    return test


def _defaultAttemptDelay() -> float:
    default = inspect.signature(HostClientEndpoint).parameters["attemptDelay"]
    return float(default.default)


def _hostBytes(endpoint: HostClientEndpoint) -> bytes:
    # The IDNA bytes we give ConnectingCancelledError, as Twisted keeps them.
    address: Any = endpoint._cancelAddress(_hostText(endpoint._hostGiven))
    return bytes(address.hostname)


class _Ours:
    """
    Point Twisted's endpoint names at ours for each test, and map the
    private names its tests read to ours.
    """

    def setUp(self) -> None:
        test: Any = self
        for name, ours in OURS.items():
            test.patch(endpoints, name, ours)
        self._privateNames(test)
        up = getattr(super(), "setUp", None)
        if up is not None:
            up()

    def _privateNames(self, test: Any) -> None:
        # Private names of Twisted's implementation that its tests read;
        # each maps to ours without touching any assertion.
        added = {
            (HostClientEndpoint, "_DEFAULT_ATTEMPT_DELAY"): _defaultAttemptDelay(),
            (_Attempt, "_connector"): property(lambda attempt: attempt.connector),
            (HostClientEndpoint, "_hostText"): property(
                lambda ep: _hostText(ep._hostGiven)
            ),
            (HostClientEndpoint, "_hostBytes"): property(_hostBytes),
        }
        for (cls, name), value in added.items():
            assert name not in vars(cls), (cls, name)
            setattr(cls, name, value)
            test.addCleanup(delattr, cls, name)


class _OursClient(_Ours):
    """
    The client mixin's success tests drive Twisted's private
    C{_WrappingFactory._onConnection} with C{object()} standing in for both
    the factory and the protocol.  Ours are the same tests with a real
    factory and protocol, connected through the public C{IProtocolFactory}
    and C{IProtocol} path the reactor uses.
    """

    def satisfyPendingConnect(self, connectingFactory: Any, expectedProto: Any) -> None:
        proto = connectingFactory.buildProtocol(None)
        proto.makeConnection(StringTransport())

    def test_endpointConnectSuccess(self) -> None:
        test: Any = self
        expectedProto = Protocol()
        mreactor = MemoryReactorClock()
        clientFactory = Factory.forProtocol(lambda: expectedProto)
        ep, expectedArgs, _ = test.createClientEndpoint(mreactor, clientFactory)
        d = ep.connect(clientFactory)
        factory = test.retrieveConnectedFactory(mreactor)
        test.satisfyPendingConnect(factory, expectedProto)
        test.assertIs(test.successResultOf(d), expectedProto)
        expectedClients = test.expectedClients(mreactor)
        test.assertEqual(len(expectedClients), 1)
        test.assertConnectArgs(expectedClients[0], expectedArgs)


class TCP4EndpointsTests(_OursClient, T.TCP4EndpointsTests):
    #: What MemoryReactorClock's resolver gives for every name; Twisted's
    #: HostnameEndpoint tests set this for test_endpointConnectNonDefaultArgs.
    expectedAddress = "127.0.0.1"

    def createClientEndpoint(self, reactor: Any, clientFactory: Any, **kw: Any) -> Any:
        # Ours connects to what reactor.nameResolver gives for "localhost"
        # (docs/migrating.rst, 'Names go through the reactor'); Twisted's hands
        # the name itself to connectTCP.  The cancel address stays the name.
        ep, args, address = super().createClientEndpoint(reactor, clientFactory, **kw)
        return ep, (self.expectedAddress, *args[1:]), address


class TCP6EndpointsTests(_OursClient, T.TCP6EndpointsTests):
    pass


class TCP6EndpointNameResolutionTests(_OursClient, T.TCP6EndpointNameResolutionTests):
    def createClientEndpoint(self, reactor: Any, clientFactory: Any, **kw: Any) -> Any:
        # Twisted's version answers through TCP6ClientEndpoint._nameResolution;
        # the same three answers come through reactor.nameResolver here.
        result = super().createClientEndpoint(reactor, clientFactory, **kw)

        def getaddrinfo(name: str, port: int) -> Any:
            self.assertEqual("ipv6.example.com", name)
            return defer.succeed(
                [
                    (AF_INET6, SOCK_STREAM, IPPROTO_TCP, "", (host, port, 0, 0))
                    for host in ("::2", "::3", "::4")
                ]
            )

        reactor.installNameResolver(endpoints._SimpleHostnameResolver(getaddrinfo))
        return result

    # Ours: tests/test_tcpclient.py SingleFamilyTests.test_cancelWhileResolving.
    test_endpointConnectingCancelled = _skip(CANCEL_ADDRESS)
    test_endpointConnectFailure = _skip(EVERY_ADDRESS)
    test_freeFunctionDeferToThread = _skip(NAME_RESOLVER)
    test_nameResolution = _skip(NAME_RESOLVER)


class HostnameEndpointMemoryIPv4ReactorTests(
    _OursClient, T.HostnameEndpointMemoryIPv4ReactorTests
):
    test_deprecation = _skip(NO_RESOLVER)
    test_errorsLogged = _skip(TWO_QUERIES)


class HostnameEndpointMemoryIPv6ReactorTests(
    _OursClient, T.HostnameEndpointMemoryIPv6ReactorTests
):
    test_deprecation = _skip(NO_RESOLVER)
    test_errorsLogged = _skip(TWO_QUERIES)


class HostnameEndpointsOneIPv4Tests(_OursClient, T.HostnameEndpointsOneIPv4Tests):
    def test_endpointConnectSuccessAfterIteration(self) -> None:
        # Twisted's version fires _WrappingFactory._onConnection with
        # object(); see _OursClient.
        proto = Protocol()
        mreactor = MemoryReactorClock()
        clientFactory = Factory.forProtocol(lambda: proto)
        ep, expectedArgs, _ = self.createClientEndpoint(mreactor, clientFactory)
        d = ep.connect(clientFactory)
        factory = self.retrieveConnectedFactory(mreactor)
        mreactor.advance(0.3)
        self.satisfyPendingConnect(factory, proto)
        self.assertIs(self.successResultOf(d), proto)
        expectedClients = self.expectedClients(mreactor)
        self.assertEqual(len(expectedClients), 1)
        self.assertConnectArgs(expectedClients[0], expectedArgs)
        self.assertEqual([], mreactor.getDelayedCalls())


class HostnameEndpointsOneIPv6Tests(_OursClient, T.HostnameEndpointsOneIPv6Tests):
    pass


class HostnameEndpointIDNATests(_Ours, T.HostnameEndpointIDNATests):
    pass


class HostnameEndpointReprTests(_Ours, T.HostnameEndpointReprTests):
    skip = REPR


class HostnameEndpointsGAIFailureTests(_Ours, T.HostnameEndpointsGAIFailureTests):
    pass


class _IPv4First(HostClientEndpoint):
    """
    L{HostClientEndpoint} trying IPv4 first, as these tests' resolver
    lists it first.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("preferIPv6", False)
        super().__init__(*args, **kwargs)


class HostnameEndpointsFasterConnectionTests(
    _Ours, T.HostnameEndpointsFasterConnectionTests
):
    """
    Twisted tries addresses in resolver order (IPv4 first here); ours starts
    with IPv6 unless told C{preferIPv6=False} (docs/happy-eyeballs.rst),
    so these run with C{preferIPv6=False}: the race, the winner and the
    stopping of the loser are what they test.
    """

    def setUp(self) -> None:
        super().setUp()
        self.patch(endpoints, "HostnameEndpoint", _IPv4First)
        T.HostnameEndpointsFasterConnectionTests.setUp(self)


class HostnameEndpointBindAddressTypes(_Ours, T.HostnameEndpointBindAddressTypes):
    pass


class HostnameEndpointFallbackNameResolutionTests(
    _Ours, T.HostnameEndpointFallbackNameResolutionTests
):
    skip = NAME_RESOLVER


class StandardIOEndpointsTests(_Ours, T.StandardIOEndpointsTests):
    skip = STDIO_PORT
