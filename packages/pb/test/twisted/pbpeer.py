#!/usr/bin/python3
"""Twisted Perspective Broker peer for Lathe's PB interoperability tests.

Run it with Debian's Python (/usr/bin/python3), which has Twisted 22.4:

  Server:    /usr/bin/python3 pbpeer.py --serve --port 0 [--root-methods]
             prints "PORT <n>" on stdout once listening, then serves until killed
             (SIGTERM/SIGINT) or, with --watch-stdin, until its stdin is closed.
  Client:    /usr/bin/python3 pbpeer.py --connect HOST:PORT --scenario NAME
             prints one JSON line per check: {"check": ..., "ok": ..., "detail": ...};
             exit status 0 only if every check passed.
  Self-test: /usr/bin/python3 pbpeer.py --selftest
             starts a server (subprocess) and runs every client scenario against it.
  Lists:     --list-scenarios, --list-kinds, --describe-kind KIND

Standard library and Twisted only.  See README.md beside this file.
"""

import argparse
import datetime
import decimal
import json
import os
import subprocess
import sys
import threading
import time

from twisted.cred import checkers, credentials, portal
from twisted.cred import error as cred_error
from twisted.internet import defer, reactor
from twisted.python import log
from twisted.spread import jelly, pb
from zope.interface import implementer

# ---------------------------------------------------------------------------
# Sample values: one per jelly type / edge case.  make(kind) returns a *fresh*
# value on every call (shared and cyclic kinds need fresh identities).


def _build(n_steps=10):
    """A Buildbot-like build dict (as the data API / a status push would carry it)."""
    t0 = 1700000000.25
    names = ["git", "configure", "compile", "test-unit", "test-integration", "lint", "docs",
             "package", "upload", "cleanup"]
    steps = []
    for i in range(n_steps):
        name = names[i % len(names)]
        started = t0 + i * 12.5
        steps.append({
            "stepid": 1000 + i,
            "number": i,
            "name": name,
            "buildid": 4242,
            "started_at": started,
            "complete_at": started + 11.75,
            "complete": True,
            "results": 0 if i != 5 else 1,
            "state_string": "%s done" % name,
            "hidden": False,
            "urls": [{"name": "%s report" % name, "url": "https://ci.example.org/report/4242/%d" % i}],
            "logs": [
                {"logid": 9000 + 2 * i, "name": "stdio", "slug": "stdio", "type": "s",
                 "num_lines": 120 + i, "complete": True},
                {"logid": 9001 + 2 * i, "name": "summary", "slug": "summary", "type": "h",
                 "num_lines": 3, "complete": True},
            ],
        })
    return {
        "buildid": 4242,
        "number": 17,
        "builderid": 3,
        "buildrequestid": 777,
        "workerid": 5,
        "masterid": 1,
        "started_at": t0,
        "complete_at": t0 + n_steps * 12.5,
        "complete": True,
        "results": 0,
        "state_string": "build successful",
        "properties": {
            "branch": ("main", "Build"),
            "revision": ("3f9c2e7d1b0a4c5e6f708192a3b4c5d6e7f80912", "Build"),
            "buildername": ("linux-x86_64", "Builder"),
            "buildnumber": (17, "Build"),
            "workername": ("worker-1", "Worker"),
            "scheduler": ("main-commits", "Scheduler"),
            "owners": (["alice@example.org"], "Build"),
        },
        "steps": steps,
    }


def _shared():
    d = {"x": 1}
    return [d, d]


def _shared_pair():
    a, b = [1], [2]
    return [a, b, a, b]


def _shared_tuple():
    t = (1, "t")
    return [t, t]


def _cyclic():
    lst = [1]
    lst.append(lst)
    return lst


def _cyclic_dict():
    d = {"name": "self"}
    d["self"] = d
    return d


KINDS = [
    ("none", lambda: None),
    ("true", lambda: True),
    ("false", lambda: False),
    ("int0", lambda: 0),
    ("int1", lambda: 1),
    ("int127", lambda: 127),
    ("int128", lambda: 128),
    ("int300", lambda: 300),
    ("intMax", lambda: 2**31 - 1),            # largest INT
    ("long2p31", lambda: 2**31),              # smallest LONGINT
    ("neg1", lambda: -1),
    ("neg129", lambda: -129),
    ("negMin", lambda: -(2**31)),             # smallest NEG
    ("longNegMax", lambda: -(2**31) - 1),     # largest LONGNEG
    ("int2p53", lambda: 2**53),
    ("int2p53p1", lambda: 2**53 + 1),         # not representable as a JS number
    ("int2p64", lambda: 2**64),
    ("int2p100", lambda: 2**100),
    ("negLong2p100", lambda: -(2**100)),
    ("int2p448m1", lambda: 2**448 - 1),       # largest int Twisted will send
    ("float0", lambda: 0.0),
    ("float1", lambda: 1.0),                  # integral float must stay a float
    ("floatNegZero", lambda: -0.0),
    ("float1_5", lambda: 1.5),
    ("floatNeg", lambda: -2.25),
    ("float1e100", lambda: 1e100),
    ("floatTiny", lambda: 5e-324),
    ("floatInf", lambda: float("inf")),
    ("floatNegInf", lambda: float("-inf")),
    ("floatNaN", lambda: float("nan")),
    ("bytesEmpty", lambda: b""),
    ("bytes", lambda: b"bytes\x00\xff"),
    ("bytesNone", lambda: b"None"),           # collides with VOCAB 1
    ("bytesList", lambda: b"list"),           # collides with VOCAB 8
    ("bytesAll", lambda: bytes(range(256))),
    ("strEmpty", lambda: ""),
    ("str", lambda: "hello"),
    ("strUnicode", lambda: "\u00fcn\u00efc\u00f6d\u00e9 \u2603"),
    ("strAstral", lambda: "emoji \U0001F600 clef \U0001D11E"),
    ("strVocab", lambda: "message"),          # UTF-8 payload travels as VOCAB 26
    ("strNul", lambda: "a\x00b"),
    ("listEmpty", lambda: []),
    ("list", lambda: [1, "two", b"three"]),
    ("listNested", lambda: [[], [[]], [1, [2, [3.0]]]]),
    ("tupleEmpty", lambda: ()),
    ("tuple", lambda: (1, "a", b"b")),
    ("tupleNested", lambda: (1, (2, 3), [4, (5,)])),
    ("dictEmpty", lambda: {}),
    ("dict", lambda: {"a": 1, "b": "two", "c": [3.0, None], "d": {"e": True}}),
    ("dictMixedKeys", lambda: {b"bkey": 2.5, 1: "intkey", (1, 2): "tuplekey", "text": None,
                               -5: b"neg", 2**40: "long"}),
    ("dictNested", lambda: {"a": 1, "b": {"nested": [1, 2, {"deep": (None, True)}]},
                            1: "intkey", b"bkey": 2.5, (1, 2): "tuplekey"}),
    ("build", _build),
    ("shared", _shared),
    ("sharedPair", _shared_pair),
    ("sharedTuple", _shared_tuple),
    ("cyclic", _cyclic),
    ("cyclicDict", _cyclic_dict),
    ("set", lambda: {1, 2}),
    ("setMixed", lambda: {"a", b"a", 3, 2.5, (1, 2)}),
    ("setEmpty", lambda: set()),
    ("frozenset", lambda: frozenset([b"f"])),
    ("frozensetEmpty", lambda: frozenset()),
    ("datetime", lambda: datetime.datetime(2024, 1, 2, 3, 4, 5, 6)),
    ("datetimeNoMicro", lambda: datetime.datetime(1999, 12, 31, 23, 59, 59)),
    ("date", lambda: datetime.date(2024, 1, 2)),
    ("time", lambda: datetime.time(3, 4, 5, 6)),
    ("timedelta", lambda: datetime.timedelta(1, 2, 3)),
    ("timedeltaNeg", lambda: datetime.timedelta(days=-1, seconds=5)),
    ("decimal", lambda: decimal.Decimal("-12.345")),
    ("decimalInt", lambda: decimal.Decimal("100")),
    ("decimalZero", lambda: decimal.Decimal("0.00")),
    ("decimalExp", lambda: decimal.Decimal("1.5E+10")),
]
KIND_NAMES = [k for k, _ in KINDS]
_KIND_MAP = dict(KINDS)


def make(kind):
    if isinstance(kind, bytes):
        kind = kind.decode("utf-8")
    try:
        return _KIND_MAP[kind]()
    except KeyError:
        raise ValueError("unknown kind %r (known: %s)" % (kind, ", ".join(KIND_NAMES))) from None


# ---------------------------------------------------------------------------
# describe(x): a type-exact text rendering of a value tree.
#
#   scalars      <type name>:<repr>       int:1  float:1.0  bytes:b'x'  str:'x'  bool:True  NoneType:None
#                                         datetime:datetime.datetime(2024, 1, 2, 3, 4, 5, 6)  Decimal:Decimal('-12.345')
#   list         list[a, b]               tuple  tuple(a, b)       dict  dict{k: v, k2: v2}   (insertion order)
#   set          set{...}  frozenset{...} (elements sorted by their description)
#   copies       RemoteThing{...state...}  RemoteCounter{...}  Unpersistable:'reason'  RemoteReference
#   sharing      a container met more than once gets "&N " before its first rendering and "*N" at
#                later occurrences (N counts from 1 in rendering order), so shared and cyclic
#                structure is visible:  [d, d] -> list[&1 dict{str:'x': int:1}, *1]
#                cyclic l = [1, l]      -> &1 list[int:1, *1]
# Two values have the same description iff they are equal, of the same Python types all the way
# down, and share structure the same way (empty tuples/frozensets are never anchored: CPython
# interns them).


def _state_of(o):
    hook = getattr(o, "describeState", None)
    if hook is not None:
        return hook()
    return dict(vars(o))


def _is_node(o):
    t = type(o)
    if t in (list, dict, set):
        return True
    if t in (tuple, frozenset):
        return len(o) > 0
    return isinstance(o, (pb.RemoteCopy, pb.Copyable))


def _children(o):
    if isinstance(o, (list, tuple)):
        return list(o)
    if isinstance(o, dict):
        out = []
        for k, v in o.items():
            out.append(k)
            out.append(v)
        return out
    if isinstance(o, (set, frozenset)):
        return []  # elements are rendered without anchors (see _plain)
    if isinstance(o, (pb.RemoteCopy, pb.Copyable)):
        return _children(_state_of(o))
    return []


def _scalar(o):
    if isinstance(o, jelly.Unpersistable):
        return "Unpersistable:%r" % (o.reason,)
    if isinstance(o, pb.CopiedFailure):
        t = o.type.decode("utf-8", "replace") if isinstance(o.type, bytes) else str(o.type)
        return "CopiedFailure:%s:%r" % (t, o.value)
    if isinstance(o, pb.RemoteReference):
        return "RemoteReference"
    if isinstance(o, (type(None), bool, int, float, bytes, str, datetime.date, datetime.time,
                      datetime.timedelta, decimal.Decimal)):
        return "%s:%r" % (type(o).__name__, o)
    return "%s:<object>" % (type(o).__name__,)


def describe(x):
    counts = {}
    keep = []  # keep scanned objects alive so ids stay unique

    def scan(o):
        if not _is_node(o):
            return
        k = id(o)
        counts[k] = counts.get(k, 0) + 1
        if counts[k] > 1:
            return
        keep.append(o)
        for c in _children(o):
            scan(c)

    labels = {}

    def render(o, anchors=True):
        prefix = ""
        if anchors and _is_node(o) and counts.get(id(o), 0) > 1:
            if id(o) in labels:
                return "*%d" % labels[id(o)]
            labels[id(o)] = len(labels) + 1
            prefix = "&%d " % labels[id(o)]
        t = type(o)
        if t is list:
            body = "list[" + ", ".join(render(c, anchors) for c in o) + "]"
        elif t is tuple:
            body = "tuple(" + ", ".join(render(c, anchors) for c in o) + ")"
        elif t is dict:
            body = "dict{" + ", ".join("%s: %s" % (render(k, anchors), render(v, anchors))
                                       for k, v in o.items()) + "}"
        elif t in (set, frozenset):
            body = t.__name__ + "{" + ", ".join(sorted(render(c, False) for c in o)) + "}"
        elif isinstance(o, (pb.RemoteCopy, pb.Copyable)) and not isinstance(o, pb.CopiedFailure):
            st = _state_of(o)
            body = t.__name__ + "{" + ", ".join("%s: %s" % (render(k, anchors), render(v, anchors))
                                                for k, v in st.items()) + "}"
        else:
            body = _scalar(o)
        return prefix + body

    try:
        scan(x)
        return render(x)
    finally:
        keep.clear()  # scan/render are self-referencing closures: do not leave x in a cycle


# ---------------------------------------------------------------------------
# Copyable / Cacheable types shared by server and client ("pbtypes.*" tags).


class Thing(pb.Copyable):
    """Copyable sent as b'pbtypes.Thing' with state {'name': str, 'values': list}."""

    def __init__(self, name, values):
        self.name = name
        self.values = values

    def getTypeToCopy(self):
        return b"pbtypes.Thing"


class RemoteThing(pb.RemoteCopy):
    """Local copy of a received pbtypes.Thing (attributes = received state)."""


pb.setUnjellyableForClass(b"pbtypes.Thing", RemoteThing)


class Counter(pb.Cacheable):
    """Cacheable sent as b'pbtypes.Counter' with state {'value': int}.

    bump() increments the value and pushes observe_setValue(value) to every observer."""

    def __init__(self):
        self.value = 0
        self.observers = []

    def getTypeToCopy(self):
        return b"pbtypes.Counter"

    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers.append(observer)
        return {"value": self.value}

    def stoppedObserving(self, perspective, observer):
        if observer in self.observers:
            self.observers.remove(observer)

    def bump(self):
        self.value += 1
        for obs in list(self.observers):
            d = obs.callRemote("setValue", self.value)
            d.addErrback(lambda f: None)
        return self.value

    def describeState(self):
        return {"value": self.value}


class RemoteCounter(pb.RemoteCache):
    """Local cache of a pbtypes.Counter; observe_setValue(v) updates .value."""

    def setCopyableState(self, state):
        state = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in state.items()}
        self.value = state.get("value")
        self.updates = []

    def observe_setValue(self, v):
        self.value = v
        self.updates.append(v)

    def describeState(self):
        return {"value": self.value}


pb.setUnjellyableForClass(b"pbtypes.Counter", RemoteCounter)


# ---------------------------------------------------------------------------
# Server


STATS = {"connections": 0, "logins": 0, "logouts": 0}

RAISABLE = {
    "ValueError": ValueError,
    "KeyError": KeyError,  # str(KeyError('k')) == "'k'"
    "TypeError": TypeError,
    "RuntimeError": RuntimeError,
    "ZeroDivisionError": ZeroDivisionError,
    "AttributeError": AttributeError,
    "pb.Error": pb.Error,
    "NoSuchMethod": pb.NoSuchMethod,
    "UnauthorizedLogin": cred_error.UnauthorizedLogin,
}


class CalcMethods:
    """The remote_* API of the test Calc.  Also mixed into the root with --root-methods.

    Subclasses must provide self.broker (the current connection's pb.Broker)."""

    broker = None
    counter = None
    lastOneWay = None

    def _counter(self):
        if self.counter is None:
            self.counter = Counter()
        return self.counter

    def remote_echo(self, x):
        return x

    def remote_add(self, a, b):
        return a + b

    def remote_addKw(self, a, b=0):
        return a + b

    def remote_fail(self):
        raise ValueError("deliberate failure")

    def remote_failPb(self):
        raise pb.Error("deliberate pb.Error")

    def remote_callMeBack(self, ref, v):
        return ref.callRemote("ping", v)

    def remote_callRef(self, ref, method, args=(), kwargs=None):
        """ref.callRemote(method, *args, **kwargs); answers with ref's answer (or its failure)."""
        if isinstance(method, bytes):
            method = method.decode("utf-8")
        kwargs = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in (kwargs or {}).items()}
        return ref.callRemote(method, *args, **kwargs)

    def remote_callRefOneWay(self, ref, method, args=()):
        """Same with answerRequired = 0 (pbanswer=0): the peer must not answer."""
        if isinstance(method, bytes):
            method = method.decode("utf-8")
        ref.callRemote(method, *args, pbanswer=0)

    def remote_callWithKind(self, ref, kind, method="ping"):
        """Calls ref.<method>(make(kind)) and answers describe(<its answer>): for a peer whose
        method returns its argument, the answer must equal describeKind(kind)."""
        if isinstance(method, bytes):
            method = method.decode("utf-8")
        return ref.callRemote(method, make(kind)).addCallback(describe)

    def remote_raiseError(self, name, message=""):
        """Raises the named exception with message (see RAISABLE)."""
        if isinstance(name, bytes):
            name = name.decode("utf-8")
        if name not in RAISABLE:
            raise ValueError("unknown exception %r (known: %s)" % (name, ", ".join(RAISABLE)))
        raise RAISABLE[name](message)

    def remote_getSelf(self):
        return self

    def remote_isSame(self, obj):
        return obj is self

    def remote_getThing(self):
        return Thing("widget", [1, 2, 3])

    def remote_echoThing(self, thing):
        if not isinstance(thing, RemoteThing):
            raise TypeError("expected a pbtypes.Thing copy, got %s" % describe(thing))
        return {k: v for k, v in vars(thing).items()}

    def remote_getCounter(self):
        return self._counter()

    def remote_bump(self):
        return self._counter().bump()

    def remote_describe(self, x):
        return describe(x)

    def remote_make(self, kind):
        return make(kind)

    def remote_kinds(self):
        return list(KIND_NAMES)

    def remote_describeKind(self, kind):
        return describe(make(kind))

    def remote_countRefs(self):
        # includes the b'root' entry (and the avatar and the Calc when logged in)
        return len(self.broker.localObjects)

    def remote_makeRef(self, tag=None):
        """A brand-new Referenceable (one more luid until the peer decrefs it)."""
        return Token(tag)

    def remote_holdRef(self, ref):
        """Keep a peer's remote reference (so the peer's export count stays up)."""
        self._held().append(ref)
        return len(self._held())

    def remote_releaseRefs(self):
        """Drop every held reference: Twisted sends one decref per held proxy right away."""
        n = len(self._held())
        del self._held()[:]
        return n

    def _held(self):
        if getattr(self, "held", None) is None:
            self.held = []
        return self.held

    def remote_countCaches(self):
        return len(self.broker.remotelyCachedObjects)

    def remote_oneWay(self, note):
        self.lastOneWay = note

    def remote_lastOneWay(self):
        return self.lastOneWay

    def remote_stats(self):
        return dict(STATS)

    def remote_disconnectMe(self):
        # Close the connection (pending output, e.g. earlier answers, is flushed) and never
        # answer this call: the caller sees its call fail with "connection lost".
        self.broker.transport.loseConnection()
        return defer.Deferred()


class Token(pb.Referenceable):
    """Fresh Referenceable from makeRef(tag); remote_tag() returns the tag."""

    def __init__(self, tag):
        self.tag_ = tag

    def remote_tag(self):
        return self.tag_


class Calc(CalcMethods, pb.Referenceable):
    def remoteMessageReceived(self, broker, message, args, kw):
        self.broker = broker
        return pb.Referenceable.remoteMessageReceived(self, broker, message, args, kw)


class CalcRoot(CalcMethods, pb._PortalWrapper):
    """Root object for --root-methods: portal login (login/loginAnonymous) + the Calc API."""

    def remoteMessageReceived(self, broker, message, args, kw):
        self.broker = broker
        return pb._PortalWrapper.remoteMessageReceived(self, broker, message, args, kw)


@implementer(pb.IPBRoot)
class CalcPortalRoot:
    def __init__(self, portal_):
        self.portal = portal_

    def rootObject(self, broker):
        return CalcRoot(self.portal, broker)


class PeerAvatar(pb.Avatar):
    def __init__(self, avatarId, mind):
        self.avatarId = avatarId
        self.mind = mind
        self.calc = None

    def perspective_whoami(self):
        return self.avatarId

    def perspective_echo(self, x):
        return x

    def perspective_getCalc(self):
        if self.calc is None:
            self.calc = Calc()
        return self.calc

    def perspective_notifyMe(self):
        if not isinstance(self.mind, pb.RemoteReference):
            raise ValueError("no mind to notify")
        return self.mind.callRemote("notify", "hello mind")

    def logout(self):
        STATS["logouts"] += 1
        self.mind = None


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if pb.IPerspective not in interfaces:
            raise NotImplementedError("only IPerspective")
        STATS["logins"] += 1
        avatar = PeerAvatar(avatarId, mind)
        return pb.IPerspective, avatar, avatar.logout


class CountingServerFactory(pb.PBServerFactory):
    def buildProtocol(self, addr):
        STATS["connections"] += 1
        return pb.PBServerFactory.buildProtocol(self, addr)


def make_portal():
    db = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland")
    return portal.Portal(Realm(), [db, checkers.AllowAnonymousAccess()])


def _watch_stdin(on_eof=None):
    def run():
        # os.read on the raw fd: a daemon thread blocked in sys.stdin.buffer.read() would make
        # the interpreter abort at shutdown (it cannot take the BufferedReader's lock).
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        reactor.callFromThread(on_eof or _stop_reactor)

    threading.Thread(target=run, daemon=True).start()


def _stop_reactor():
    if reactor.running:
        reactor.stop()


def serve(args):
    p = make_portal()
    root = CalcPortalRoot(p) if args.root_methods else p
    factory = CountingServerFactory(root, unsafeTracebacks=args.unsafe_tracebacks)
    port = reactor.listenTCP(args.port, factory, interface=args.host)
    sys.stdout.write("PORT %d\n" % port.getHost().port)
    sys.stdout.flush()
    if args.watch_stdin:
        _watch_stdin()
    reactor.run()
    return 0


# ---------------------------------------------------------------------------
# Client scenarios


class ScenarioFailed(Exception):
    pass


class Checks:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.results = []

    def add(self, name, ok, detail=None):
        rec = {"check": name, "ok": bool(ok), "detail": detail}
        self.results.append(rec)
        try:
            line = json.dumps(rec, default=repr)
        except (TypeError, ValueError):  # e.g. non-text dict keys inside detail
            line = json.dumps({"check": name, "ok": bool(ok), "detail": repr(detail)})
        self.out.write(line + "\n")
        self.out.flush()
        return bool(ok)

    def all_ok(self):
        return bool(self.results) and all(r["ok"] for r in self.results)


def outcome(d, timeout):
    """Deferred -> Deferred firing with ('ok', value) or ('err', failure); never errbacks."""
    d.addTimeout(timeout, reactor)
    return d.addCallbacks(lambda v: ("ok", v), lambda f: ("err", f))


def fail_detail(f):
    t = getattr(f, "type", None)
    if isinstance(t, bytes):
        t = t.decode("utf-8", "replace")
    elif isinstance(t, type):
        t = t.__module__ + "." + t.__qualname__
    v = f.value
    if isinstance(v, BaseException):
        v = "%s: %s" % (type(v).__name__, v)
    return {"type": str(t), "value": str(v), "copied": isinstance(f, pb.CopiedFailure)}


def _truncate(s, n=3000):
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


class Pinger(pb.Referenceable):
    """Client-side Referenceable for callbacks; also serves as a login mind."""

    def __init__(self):
        self.pings = []
        self.notes = []

    def remote_ping(self, v):
        self.pings.append(v)
        return ("pong", v)

    def remote_notify(self, note):
        self.notes.append(note)


class Echoer(pb.Referenceable):
    """Client-side target for callRef / callWithKind / callRefOneWay."""

    def __init__(self):
        self.notes = []

    def remote_echo(self, *args, **kwargs):
        return (args, kwargs)

    def remote_echo1(self, x):
        return x

    def remote_fail(self):
        raise ValueError("echoer failure")

    def remote_note(self, note):
        self.notes.append(note)


class Client:
    def __init__(self, host, port, checks, call_timeout):
        self.host = host
        self.port = port
        self.checks = checks
        self.t = call_timeout
        self.factories = []

    @defer.inlineCallbacks
    def connect(self):
        f = pb.PBClientFactory()
        self.factories.append(f)
        reactor.connectTCP(self.host, self.port, f, timeout=self.t)
        root = yield outcome(f.getRootObject(), self.t)
        return f, root

    @defer.inlineCallbacks
    def root(self):
        f, (st, root) = yield self.connect()
        if st != "ok":
            self.checks.add("connect", False, fail_detail(root))
            raise ScenarioFailed("cannot connect")
        return root

    def call(self, ref, name, *args, **kw):
        return outcome(ref.callRemote(name, *args, **kw), self.t)

    def close(self):
        for f in self.factories:
            try:
                f.disconnect()
            except Exception:
                pass

    @defer.inlineCallbacks
    def expect_same(self, check, ref, method, value, *args):
        """Call method(value, *args) and check the answer describes identically to value."""
        st, r = yield self.call(ref, method, value, *args)
        if st != "ok":
            self.checks.add(check, False, {"error": fail_detail(r)})
            return
        exp, got = describe(value), describe(r)
        if exp == got:
            self.checks.add(check, True, _truncate(got, 300))
        else:
            self.checks.add(check, False, {"expected": _truncate(exp), "got": _truncate(got)})

    # -- scenarios ---------------------------------------------------------

    @defer.inlineCallbacks
    def scenario_echo_types(self):
        root = yield self.root()
        for kind in KIND_NAMES:
            yield self.expect_same("echo:" + kind, root, "echo", make(kind))
        # a few mixtures in one message
        mix = {"values": [make(k) for k in ("none", "true", "int2p64", "float1", "bytesNone",
                                             "strAstral", "tupleEmpty", "set", "datetime",
                                             "decimal")],
               "build": make("build")}
        yield self.expect_same("echo:mixed", root, "echo", mix)
        shared = {"x": [1]}
        yield self.expect_same("echo:sharedAcrossArgs", root, "echo", [shared, (shared, shared)])

    @defer.inlineCallbacks
    def scenario_add(self):
        root = yield self.root()
        cases = [
            ("add:ints", (2, 3), 5),
            ("add:negative", (-7, 3), -4),
            ("add:floats", (1.5, 2.25), 3.75),
            ("add:floatsIntegral", (1.5, 2.5), 4.0),
            ("add:intFloat", (1, 0.5), 1.5),
            ("add:intToLong", (2**31 - 1, 1), 2**31),
            ("add:long", (2**40, 2**40), 2**41),
        ]
        for name, args, want in cases:
            st, r = yield self.call(root, "add", *args)
            if st != "ok":
                self.checks.add(name, False, {"error": fail_detail(r)})
                continue
            ok = describe(r) == describe(want)
            self.checks.add(name, ok, {"args": list(args), "expected": describe(want), "got": describe(r)})

    @defer.inlineCallbacks
    def scenario_errors(self):
        root = yield self.root()
        st, f = yield self.call(root, "noSuchMethod", 1)
        if st == "ok":
            self.checks.add("errors:noSuchMethod", False, {"unexpected answer": describe(f)})
        else:
            det = fail_detail(f)
            names = det["type"] + " " + " ".join(str(p) for p in (getattr(f, "parents", None) or []))
            ok = det["copied"] and ("NoSuchMethod" in names or "AttributeError" in names)
            self.checks.add("errors:noSuchMethod", ok, det)
        st, f = yield self.call(root, "fail")
        if st == "ok":
            self.checks.add("errors:fail", False, {"unexpected answer": describe(f)})
        else:
            det = fail_detail(f)
            ok = det["copied"] and f.value == "deliberate failure"
            self.checks.add("errors:fail", ok, det)
            parents = getattr(f, "parents", None)
            self.checks.add(
                "errors:failShape",
                isinstance(f.type, (bytes, str)) and isinstance(f.value, str)
                and isinstance(parents, list) and all(isinstance(p, str) for p in parents)
                and isinstance(getattr(f, "traceback", None), str),
                {"type": describe(f.type), "value": describe(f.value),
                 "parents": describe(parents), "traceback": describe(getattr(f, "traceback", None))})
        # an unknown object id must give an error answer, not a dropped connection
        bogus = pb.RemoteReference(None, root.broker, 999999, 0)
        st, f = yield self.call(bogus, "anything")
        self.checks.add("errors:unknownObject", st == "err" and fail_detail(f)["copied"],
                        fail_detail(f) if st == "err" else {"unexpected answer": describe(f)})
        st, r = yield self.call(root, "echo", 1)
        self.checks.add("errors:connectionStillUsable", st == "ok" and r == 1,
                        describe(r) if st == "ok" else fail_detail(r))

    @defer.inlineCallbacks
    def scenario_callback(self):
        root = yield self.root()
        pinger = Pinger()
        for name, v in [("int", 42), ("str", "hello"), ("nested", {"k": [1, b"x", (2.5, None)]})]:
            st, r = yield self.call(root, "callMeBack", pinger, v)
            if st != "ok":
                self.checks.add("callback:" + name, False, {"error": fail_detail(r)})
                continue
            exp = ("pong", v)
            ok = describe(r) == describe(exp) and pinger.pings and describe(pinger.pings[-1]) == describe(v)
            self.checks.add("callback:" + name, ok,
                            {"expected": describe(exp), "got": describe(r),
                             "pingedWith": describe(pinger.pings[-1]) if pinger.pings else None})
        self.checks.add("callback:pingCount", len(pinger.pings) == 3, len(pinger.pings))

    @defer.inlineCallbacks
    def _login(self, creds, mind):
        f, (st, root) = yield self.connect()
        if st != "ok":
            return f, ("err", root)
        res = yield outcome(f.login(creds, client=mind), self.t)
        return f, res

    @defer.inlineCallbacks
    def scenario_login(self):
        mind = Pinger()
        f, (st, persp) = yield self._login(credentials.UsernamePassword(b"alice", b"wonderland"), mind)
        if st != "ok":
            self.checks.add("login:alice", False, fail_detail(persp))
        else:
            self.checks.add("login:alice", isinstance(persp, pb.RemoteReference), describe(persp))
            st, who = yield self.call(persp, "whoami")
            self.checks.add("login:whoami", st == "ok" and who in (b"alice", "alice"),
                            describe(who) if st == "ok" else fail_detail(who))
        f.disconnect()

        for name, creds in [("login:wrongPassword", credentials.UsernamePassword(b"alice", b"wrong")),
                            ("login:unknownUser", credentials.UsernamePassword(b"bob", b"wonderland"))]:
            f, (st, r) = yield self._login(creds, Pinger())
            if st == "ok":
                self.checks.add(name, False, {"unexpected avatar": describe(r)})
            else:
                self.checks.add(name, bool(r.check(cred_error.UnauthorizedLogin)), fail_detail(r))
            f.disconnect()

        f, (st, persp) = yield self._login(credentials.Anonymous(), Pinger())
        if st != "ok":
            self.checks.add("login:anonymous", False, fail_detail(persp))
        else:
            self.checks.add("login:anonymous", isinstance(persp, pb.RemoteReference), describe(persp))
            st, who = yield self.call(persp, "whoami")
            self.checks.add("login:anonymousWhoami", st == "ok", describe(who) if st == "ok" else fail_detail(who))
        f.disconnect()

    @defer.inlineCallbacks
    def scenario_copyable(self):
        root = yield self.root()
        st, t = yield self.call(root, "getThing")
        if st != "ok":
            self.checks.add("copyable:getThing", False, fail_detail(t))
            return
        ok = (isinstance(t, RemoteThing) and isinstance(getattr(t, "name", None), str)
              and isinstance(getattr(t, "values", None), list))
        self.checks.add("copyable:getThing", ok, describe(t))
        st, t2 = yield self.call(root, "getThing")
        self.checks.add("copyable:freshCopy", st == "ok" and isinstance(t2, RemoteThing) and t2 is not t
                        and describe(t2) == describe(t), describe(t2) if st == "ok" else fail_detail(t2))

    @defer.inlineCallbacks
    def scenario_cacheable(self):
        root = yield self.root()
        st, c = yield self.call(root, "getCounter")
        if st != "ok":
            self.checks.add("cacheable:getCounter", False, fail_detail(c))
            return
        ok = isinstance(c, RemoteCounter) and isinstance(c.value, int)
        self.checks.add("cacheable:getCounter", ok, describe(c))
        if not ok:
            return
        before = c.value
        st, r = yield self.call(root, "bump")
        if st != "ok":
            self.checks.add("cacheable:bump", False, fail_detail(r))
            return
        deadline = time.monotonic() + self.t
        while c.value == before and time.monotonic() < deadline:
            yield _sleep(0.02)
        self.checks.add("cacheable:observeSetValue", c.value == before + 1,
                        {"before": before, "after": c.value, "bumpAnswer": describe(r)})
        st, c2 = yield self.call(root, "getCounter")
        self.checks.add("cacheable:sameCache", st == "ok" and isinstance(c2, RemoteCounter)
                        and c2.__dict__ is c.__dict__,
                        describe(c2) if st == "ok" else fail_detail(c2))
        st, c3 = yield self.call(root, "echo", c)
        self.checks.add("cacheable:echoBack", st == "ok" and isinstance(c3, RemoteCounter)
                        and c3.__dict__ is c.__dict__,
                        describe(c3) if st == "ok" else fail_detail(c3))

    @defer.inlineCallbacks
    def scenario_calc(self):
        """Python-server-only: the avatar + Calc API that TS client tests use."""
        mind = Pinger()
        f, (st, persp) = yield self._login(credentials.UsernamePassword(b"alice", b"wonderland"), mind)
        if st != "ok":
            self.checks.add("calc:login", False, fail_detail(persp))
            return
        st, who = yield self.call(persp, "whoami")
        self.checks.add("calc:whoami", st == "ok" and who == b"alice", describe(who))
        st, r = yield self.call(persp, "echo", ("x", b"y"))
        self.checks.add("calc:perspectiveEcho", st == "ok" and describe(r) == describe(("x", b"y")), describe(r))
        st, r = yield self.call(persp, "notifyMe")
        self.checks.add("calc:notifyMe", st == "ok" and mind.notes == ["hello mind"], mind.notes)
        st, calc = yield self.call(persp, "getCalc")
        if st != "ok":
            self.checks.add("calc:getCalc", False, fail_detail(calc))
            return
        self.checks.add("calc:getCalc", isinstance(calc, pb.RemoteReference), describe(calc))
        st, r = yield self.call(calc, "add", 2, 3)
        self.checks.add("calc:add", st == "ok" and describe(r) == "int:5", describe(r))
        st, r = yield outcome(calc.callRemote("addKw", 7, b=8), self.t)
        self.checks.add("calc:addKw", st == "ok" and describe(r) == "int:15", describe(r))
        st, r = yield self.call(calc, "addKw", 7)
        self.checks.add("calc:addKwDefault", st == "ok" and describe(r) == "int:7", describe(r))
        st, r = yield self.call(calc, "failPb")
        self.checks.add("calc:failPb", st == "err" and fail_detail(r)["type"] == "twisted.spread.pb.Error"
                        and r.value == "deliberate pb.Error", fail_detail(r) if st == "err" else describe(r))
        st, r = yield self.call(calc, "fail")
        self.checks.add("calc:fail", st == "err" and fail_detail(r)["type"] == "builtins.ValueError"
                        and r.value == "deliberate failure", fail_detail(r) if st == "err" else describe(r))
        st, kinds = yield self.call(calc, "kinds")
        self.checks.add("calc:kinds", st == "ok" and kinds == KIND_NAMES, len(kinds) if st == "ok" else None)
        bad = []
        for kind in KIND_NAMES:
            st, v = yield self.call(calc, "make", kind)
            st2, d = yield self.call(calc, "describe", make(kind))
            st3, dk = yield self.call(calc, "describeKind", kind)
            exp = describe(make(kind))
            if not (st == st2 == st3 == "ok" and describe(v) == exp and d == exp and dk == exp):
                bad.append({"kind": kind, "expected": exp,
                            "make": describe(v), "describe": d, "describeKind": dk})
        self.checks.add("calc:makeDescribeAllKinds", not bad, bad[:3] or len(KIND_NAMES))
        st, r = yield self.call(calc, "make", "noSuchKind")
        self.checks.add("calc:makeUnknownKind", st == "err", fail_detail(r) if st == "err" else describe(r))
        st, r = yield self.call(calc, "echoThing", Thing("sent", [1, "two", (3,)]))
        exp = {"name": "sent", "values": [1, "two", (3,)]}
        self.checks.add("calc:echoThing", st == "ok" and describe(r) == describe(exp),
                        describe(r) if st == "ok" else fail_detail(r))
        st, r = yield self.call(calc, "callMeBack", mind, 42)
        self.checks.add("calc:callMeBack", st == "ok" and r == ("pong", 42), describe(r))
        echoer = Echoer()
        st, r = yield outcome(calc.callRemote("callRef", echoer, "echo", (1, "a"), {"k": b"v"}), self.t)
        self.checks.add("calc:callRef", st == "ok" and describe(r) == describe(((1, "a"), {"k": b"v"})),
                        describe(r) if st == "ok" else fail_detail(r))
        st, r = yield self.call(calc, "callRef", echoer, "fail")
        self.checks.add("calc:callRefFailure", st == "err" and r.value == "echoer failure",
                        fail_detail(r) if st == "err" else describe(r))
        bad = []
        for kind in KIND_NAMES:
            st, r = yield self.call(calc, "callWithKind", echoer, kind, "echo1")
            if st != "ok" or r != describe(make(kind)):
                bad.append({"kind": kind, "got": r if st == "ok" else fail_detail(r)})
        self.checks.add("calc:callWithKindAll", not bad, bad[:3] or len(KIND_NAMES))
        st, r = yield self.call(calc, "callRefOneWay", echoer, "note", ("one way",))
        deadline = time.monotonic() + self.t
        while not echoer.notes and time.monotonic() < deadline:
            yield _sleep(0.02)
        self.checks.add("calc:callRefOneWay", st == "ok" and echoer.notes == ["one way"], echoer.notes)
        raised = []
        for name, msg in [("KeyError", "k"), ("UnauthorizedLogin", ""), ("RuntimeError", "caf\u00e9")]:
            st, r = yield self.call(calc, "raiseError", name, msg)
            raised.append(fail_detail(r) if st == "err" else describe(r))
        self.checks.add("calc:raiseError",
                        [d.get("type") if isinstance(d, dict) else d for d in raised]
                        == ["builtins.KeyError", "twisted.cred.error.UnauthorizedLogin", "builtins.RuntimeError"]
                        and raised[0]["value"] == "'k'" and raised[2]["value"] == "caf\u00e9", raised)
        # reference counting: getSelf exports calc once more; dropping the proxy decrefs it
        st, n0 = yield self.call(calc, "countRefs")
        st, me = yield self.call(calc, "getSelf")
        st2, same = yield self.call(calc, "isSame", me)
        self.checks.add("calc:getSelfIsSame", st == st2 == "ok" and same is True, describe(same))
        st, n1 = yield self.call(calc, "countRefs")
        del me
        st, n2 = yield self.call(calc, "countRefs")
        st, tok = yield self.call(calc, "makeRef", "t1")
        st, n_tok = yield self.call(calc, "countRefs")
        st2, tag = yield self.call(tok, "tag")
        self.checks.add("calc:makeRef", st == st2 == "ok" and tag == "t1" and n_tok == n0 + 1,
                        {"tag": describe(tag), "refsWithToken": n_tok})
        del tok
        st, n_after_tok = yield self.call(calc, "countRefs")
        self.checks.add("calc:makeRefDecref", n_after_tok == n0, n_after_tok)
        held = Pinger()
        st, nh = yield self.call(calc, "holdRef", held)
        exported = len(calc.broker.localObjects)
        st2, nr = yield self.call(calc, "releaseRefs")
        yield _sleep(0.05)
        self.checks.add("calc:holdRelease", st == st2 == "ok" and nh == 1 and nr == 1
                        and len(calc.broker.localObjects) == exported - 1,
                        {"clientExportsWhileHeld": exported, "after": len(calc.broker.localObjects)})
        st, c = yield self.call(calc, "getCounter")
        st, n3 = yield self.call(calc, "countRefs")
        st, nc = yield self.call(calc, "countCaches")
        self.checks.add("calc:countRefs", n0 == n1 == n2 and n3 == n0 and nc == 1,
                        {"before": n0, "withSelf": n1, "afterDecref": n2, "withCounter": n3, "caches": nc})
        st, r = yield self.call(calc, "bump")
        deadline = time.monotonic() + self.t
        while c.value != 1 and time.monotonic() < deadline:
            yield _sleep(0.02)
        self.checks.add("calc:cacheUpdate", c.value == 1, describe(c))
        del c
        yield _sleep(0.1)
        st, nc = yield self.call(calc, "countCaches")
        self.checks.add("calc:decache", nc == 0, nc)
        calc.callRemote("oneWay", "note", pbanswer=0)  # answerRequired=0: no answer comes back
        st, r = yield self.call(calc, "lastOneWay")
        self.checks.add("calc:oneWay", st == "ok" and r == "note", describe(r))
        st, r = yield self.call(calc, "stats")
        self.checks.add("calc:stats", st == "ok" and isinstance(r, dict) and r.get("logins", 0) >= 1, describe(r))
        st, r = yield self.call(calc, "disconnectMe")
        self.checks.add("calc:disconnectMe", st == "err" and r.check(pb.PBConnectionLost) is not None,
                        fail_detail(r) if st == "err" else describe(r))

        f, (st, persp) = yield self._login(credentials.Anonymous(), None)
        if st != "ok":
            self.checks.add("calc:anonymous", False, fail_detail(persp))
        else:
            st, who = yield self.call(persp, "whoami")
            self.checks.add("calc:anonymousWhoami", st == "ok" and who == (), describe(who))
            st, calc2 = yield self.call(persp, "getCalc")
            st, r = yield self.call(calc2, "echo", [1])
            self.checks.add("calc:anonymousCalc", st == "ok" and r == [1], describe(r))
        f.disconnect()


def _sleep(secs):
    d = defer.Deferred()
    reactor.callLater(secs, d.callback, None)
    return d


SCENARIOS = {
    "echo-types": Client.scenario_echo_types,
    "add": Client.scenario_add,
    "errors": Client.scenario_errors,
    "callback": Client.scenario_callback,
    "login": Client.scenario_login,
    "copyable": Client.scenario_copyable,
    "cacheable": Client.scenario_cacheable,
    "calc": Client.scenario_calc,  # only against pbpeer.py --serve (avatar + Calc API)
}
# Scenarios that only need the root-level API of the Lathe TS echo server.
TS_SCENARIOS = ["echo-types", "add", "errors", "callback", "login", "copyable", "cacheable"]


def run_client(args):
    host, _, port = args.connect.rpartition(":")
    host = host or "127.0.0.1"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    checks = Checks()
    client = Client(host, int(port), checks, args.call_timeout)
    names = TS_SCENARIOS if args.scenario == "all" else [args.scenario]
    for n in names:
        if n not in SCENARIOS:
            sys.stderr.write("unknown scenario %r; known: %s\n" % (n, ", ".join(SCENARIOS)))
            return 2
    state = {"timedOut": False}

    @defer.inlineCallbacks
    def main():
        try:
            for n in names:
                try:
                    yield SCENARIOS[n](client)
                except ScenarioFailed:
                    pass
                except Exception as e:  # a bug in the scenario or an unexpected failure
                    checks.add(n + ":exception", False, "%s: %s" % (type(e).__name__, e))
        finally:
            client.close()
            reactor.callLater(0.05, _stop_reactor)

    def overall_timeout():
        state["timedOut"] = True
        checks.add("timeout", False, "scenario did not finish within %ss" % args.timeout)
        _stop_reactor()

    reactor.callWhenRunning(main)
    def stdin_closed():
        if reactor.running:
            checks.add("aborted", False, "stdin closed before the scenario finished")
            _stop_reactor()

    if args.watch_stdin:
        _watch_stdin(stdin_closed)
    t = reactor.callLater(args.timeout, overall_timeout)
    reactor.run()
    if t.active():
        t.cancel()
    ok = checks.all_ok()
    sys.stderr.write("%s: %d checks, %d failed\n" % (args.scenario, len(checks.results),
                                                     sum(1 for r in checks.results if not r["ok"])))
    return 0 if ok else 1


# ---------------------------------------------------------------------------
# Self-test: a server subprocess + every client scenario as a subprocess.


def selftest(args):
    me = os.path.abspath(__file__)
    py = sys.executable
    total_fail = 0
    total = 0
    for root_methods, scenarios in [(True, TS_SCENARIOS + ["calc"]), (False, ["login", "calc"])]:
        cmd = [py, me, "--serve", "--port", "0", "--host", "127.0.0.1", "--watch-stdin"]
        if root_methods:
            cmd.append("--root-methods")
        srv = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = srv.stdout.readline()
            if not line.startswith("PORT "):
                print("selftest: server did not start: %r" % line)
                return 1
            port = int(line.split()[1])
            label = "root-methods" if root_methods else "portal-only"
            for sc in scenarios:
                t0 = time.monotonic()
                p = subprocess.run([py, me, "--connect", "127.0.0.1:%d" % port, "--scenario", sc],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   timeout=args.timeout + 10)
                recs = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
                failed = [r for r in recs if not r["ok"]]
                total += len(recs)
                total_fail += len(failed)
                print("%-12s %-11s %3d checks, %d failed, exit %d (%.2fs)" % (
                    label, sc, len(recs), len(failed), p.returncode, time.monotonic() - t0))
                for r in failed:
                    print("    FAIL %s: %s" % (r["check"], json.dumps(r["detail"])[:1500]))
                if (p.returncode != 0) != bool(failed) or not recs:
                    print("    exit %d does not match the checks; stderr: %s" % (p.returncode, p.stderr[-2000:]))
                    total_fail += 1
        finally:
            srv.stdin.close()
            try:
                srv.wait(10)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
    print("%d passed, %d failed" % (total - total_fail, total_fail))
    return 0 if total_fail == 0 else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--serve", action="store_true", help="run the PB server")
    mode.add_argument("--connect", metavar="HOST:PORT", help="run a client scenario against HOST:PORT")
    mode.add_argument("--selftest", action="store_true", help="server + all scenarios, in subprocesses")
    mode.add_argument("--list-scenarios", action="store_true")
    mode.add_argument("--list-kinds", action="store_true")
    mode.add_argument("--describe-kind", metavar="KIND", help="print describe(make(KIND))")
    ap.add_argument("--port", type=int, default=0, help="server: TCP port (0 = any free port)")
    ap.add_argument("--host", default="127.0.0.1", help="server: interface to listen on")
    ap.add_argument("--root-methods", action="store_true",
                    help="server: root also offers the Calc API (echo, add, fail, callMeBack, getThing, "
                         "getCounter, bump, ...) besides login/loginAnonymous")
    ap.add_argument("--unsafe-tracebacks", action="store_true", help="server: send real tracebacks")
    ap.add_argument("--watch-stdin", action="store_true",
                    help="exit when stdin reaches EOF (so a dying parent takes this process with it)")
    ap.add_argument("--scenario", default="all", help="client: scenario name, or 'all' (the TS ones)")
    ap.add_argument("--timeout", type=float, default=60.0, help="client: overall time limit, seconds")
    ap.add_argument("--call-timeout", type=float, default=10.0, help="client: per-call time limit, seconds")
    ap.add_argument("--verbose", action="store_true", help="log Twisted events to stderr")
    args = ap.parse_args(argv)
    if args.verbose:
        log.startLogging(sys.stderr)
    else:
        # Twisted would otherwise print every failed remote call ("Peer will receive following
        # PB traceback") to stderr; the failures are deliberate here.
        from twisted.logger import globalLogBeginner
        globalLogBeginner.beginLoggingTo([lambda event: None], redirectStandardIO=False)
    if args.list_scenarios:
        print("\n".join(SCENARIOS))
        return 0
    if args.list_kinds:
        print("\n".join(KIND_NAMES))
        return 0
    if args.describe_kind:
        print(describe(make(args.describe_kind)))
        return 0
    if args.serve:
        return serve(args)
    if args.selftest:
        return selftest(args)
    return run_client(args)


if __name__ == "__main__":
    sys.exit(main())
