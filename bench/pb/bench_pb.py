#!/usr/bin/python3
"""Perspective Broker throughput benchmark, Twisted side.

Run with Debian's Python (/usr/bin/python3, Twisted 22.4). Three modes:

  /usr/bin/python3 bench_pb.py [--duration 3]
      Twisted <-> Twisted: starts a server subprocess (this script, --serve) and measures
      a Twisted client against it over TCP on 127.0.0.1.
  /usr/bin/python3 bench_pb.py --inprocess
      the same with client and server in one process (one reactor, one CPU core).
  /usr/bin/python3 bench_pb.py --serve [--port 0] [--watch-stdin]
      server only: prints "PORT <n>" once listening; the root object offers echo(x).
  /usr/bin/python3 bench_pb.py --connect HOST:PORT
      client only: measures a Twisted client against any PB server whose root object has
      echo(x) returning x (e.g. Lathe's examples/pb/echo-server.ts).

Measurements (each for --duration seconds, after a short warm-up), all calls on the root object
of one connection:
  sequential  echo(1), awaited one at a time                          -> sequential_calls_per_s
  pipelined   echo(1), --depth calls kept in flight (default 1000)    -> pipelined_calls_per_s
              and for each of --extra-depths (default 100)            -> pipelined_depth<N>_calls_per_s
  build       echo(<Buildbot-like build dict, ten steps>), sequential -> build_echo_per_s
  build-pipelined  the same with --build-depth (default 32) in flight -> build_pipelined_per_s
Each measurement runs --repeat times (default 3, interleaved); the figures are medians and
"runs" lists every value.  Prints one JSON object on stdout.  Standard library and Twisted only.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

import twisted
from twisted.internet import defer, reactor
from twisted.spread import banana, jelly, pb


def build_lean(n_steps=10):
    """Default benchmark payload: a Buildbot-like build with properties and n_steps steps, each
    with name, results, float timestamps, a urls list and a logs list (2.6 KB on the wire)."""
    t0 = 1700000000.25
    names = ["git", "configure", "compile", "test-unit", "test-integration", "lint", "docs",
             "package", "upload", "cleanup"]
    return {
        "buildid": 4242,
        "number": 17,
        "builder": "linux-x86_64",
        "results": 0,
        "started_at": t0,
        "complete_at": t0 + n_steps * 12.5,
        "properties": {
            "branch": "main",
            "revision": "3f9c2e7d1b0a4c5e6f708192a3b4c5d6e7f80912",
            "buildnumber": 17,
            "workername": "worker-1",
        },
        "steps": [
            {
                "name": names[i % len(names)],
                "results": 0 if i != 5 else 1,
                "started_at": t0 + i * 12.5,
                "complete_at": t0 + i * 12.5 + 11.75,
                "urls": ["https://ci.example.org/r/%d" % i] if i % 3 == 0 else [],
                "logs": ["stdio"],
            }
            for i in range(n_steps)
        ],
    }


def build_rich(n_steps=10):
    """--build-shape rich: a build as Buildbot's data API carries it (step and log ids, state
    strings, url and log dicts; same shape as pbpeer.py's 'build' kind), ~10 KB on the wire."""
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
        "buildid": 4242, "number": 17, "builderid": 3, "buildrequestid": 777, "workerid": 5,
        "masterid": 1, "started_at": t0, "complete_at": t0 + n_steps * 12.5, "complete": True,
        "results": 0, "state_string": "build successful",
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


BUILD_SHAPES = {"lean": build_lean, "rich": build_rich}


def encoded_size(value):
    """Bytes of the Banana encoding (pb dialect, with vocabulary) of jelly(value)."""
    b = banana.Banana()
    b.setPrefixLimit(64)
    b.currentDialect = b"pb"
    out = []
    b._encode(jelly.jelly(value), out.append)
    return sum(len(x) for x in out)


# ---------------------------------------------------------------------------
# server


class EchoRoot(pb.Root):
    def remote_echo(self, x):
        return x


def _stop():
    if reactor.running:
        reactor.stop()


def serve(args):
    port = reactor.listenTCP(args.port, pb.PBServerFactory(EchoRoot()), interface=args.host)
    sys.stdout.write("PORT %d\n" % port.getHost().port)
    sys.stdout.flush()
    if args.watch_stdin:
        def watch():
            try:
                while os.read(0, 4096):  # raw fd: see pbpeer.py _watch_stdin
                    pass
            except OSError:
                pass
            reactor.callFromThread(_stop)
        threading.Thread(target=watch, daemon=True).start()
    reactor.run()
    return 0


# ---------------------------------------------------------------------------
# client


@defer.inlineCallbacks
def sequential(root, value, duration):
    n = 0
    t0 = time.perf_counter()
    end = t0 + duration
    while True:
        yield root.callRemote("echo", value)
        n += 1
        if (n & 15) == 0 and time.perf_counter() >= end:
            break
    return n / (time.perf_counter() - t0)


def pipelined(root, value, duration, depth):
    """Keep `depth` calls in flight; each answer launches the next call until time is up."""
    done = defer.Deferred()
    state = {"completed": 0, "inflight": 0, "stopping": False, "error": None}
    t0 = time.perf_counter()
    end = t0 + duration

    def launch():
        state["inflight"] += 1
        root.callRemote("echo", value).addCallbacks(answered, failed)

    def answered(_):
        state["inflight"] -= 1
        state["completed"] += 1
        if not state["stopping"]:
            if (state["completed"] & 63) == 0 and time.perf_counter() >= end:
                state["stopping"] = True
                state["elapsed"] = time.perf_counter() - t0
                state["counted"] = state["completed"]
            else:
                launch()
        if state["stopping"] and state["inflight"] == 0 and not done.called:
            if state["error"] is not None:
                done.errback(state["error"])
            else:
                done.callback(state["counted"] / state["elapsed"])

    def failed(f):
        state["error"] = f
        state["stopping"] = True
        state.setdefault("elapsed", time.perf_counter() - t0)
        state.setdefault("counted", state["completed"])
        answered(None)

    for _ in range(depth):
        launch()
    return done


@defer.inlineCallbacks
def run_benchmarks(host, port, args):
    f = pb.PBClientFactory()
    reactor.connectTCP(host, port, f, timeout=10)
    root = yield f.getRootObject()
    build = BUILD_SHAPES[args.build_shape](10)
    # sanity + warm-up
    r = yield root.callRemote("echo", build)
    echo_ok = r == build and repr(r) == repr(build)  # repr also tells list from tuple, 1 from 1.0
    for _ in range(200):
        yield root.callRemote("echo", 1)
    runs = {}

    def record(name, value):
        runs.setdefault(name, []).append(round(value, 1))

    for _ in range(args.repeat):
        record("sequential_calls_per_s", (yield sequential(root, 1, args.duration)))
        record("pipelined_calls_per_s", (yield pipelined(root, 1, args.duration, args.depth)))
        for depth in args.extra_depths:
            record("pipelined_depth%d_calls_per_s" % depth, (yield pipelined(root, 1, args.duration, depth)))
        record("build_echo_per_s", (yield sequential(root, build, args.duration)))
        record("build_pipelined_per_s", (yield pipelined(root, build, args.duration, args.build_depth)))
    res = {name: statistics.median(values) for name, values in runs.items()}
    res["build_echo_unchanged"] = echo_ok
    res["runs"] = runs
    f.disconnect()
    return res


def client(host, port, args, server_label):
    out = {}

    @defer.inlineCallbacks
    def main():
        try:
            out.update((yield run_benchmarks(host, port, args)))
        except Exception as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            reactor.callLater(0, _stop)

    reactor.callWhenRunning(main)
    reactor.run()
    build = BUILD_SHAPES[args.build_shape](10)
    result = {
        "bench": "pb-echo",
        "client": "twisted",
        "server": server_label,
        "target": "%s:%d" % (host, port),
        "twisted": twisted.__version__,
        "python": platform.python_version(),
        "duration_s": args.duration,
        "repeat": args.repeat,
        "pipeline_depth": args.depth,
        "build_pipeline_depth": args.build_depth,
        "build_shape": args.build_shape,
        "build_steps": 10,
        "build_message_bytes": encoded_size(build),
    }
    result.update(out)
    print(json.dumps(result))
    return 1 if "error" in out else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve", action="store_true", help="server only")
    ap.add_argument("--connect", metavar="HOST:PORT", help="client only, against HOST:PORT")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--watch-stdin", action="store_true", help="server: exit when stdin reaches EOF")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of all measurements; the figures are medians, 'runs' has them all")
    ap.add_argument("--depth", type=int, default=1000, help="calls in flight for the pipelined test")
    ap.add_argument("--extra-depths", default="100",
                    help="comma-separated extra pipeline depths to measure ('' for none)")
    ap.add_argument("--inprocess", action="store_true",
                    help="Twisted <-> Twisted in one process and one reactor (no subprocess)")
    ap.add_argument("--build-shape", choices=sorted(BUILD_SHAPES), default="lean",
                    help="payload of the build tests (default lean, see build_lean)")
    ap.add_argument("--build-depth", type=int, default=32, help="calls in flight for build-pipelined")
    args = ap.parse_args(argv)
    args.extra_depths = [int(x) for x in args.extra_depths.split(",") if x.strip()]
    if args.serve:
        return serve(args)
    if args.connect:
        host, _, port = args.connect.rpartition(":")
        return client(host or "127.0.0.1", int(port), args, "external")
    if args.inprocess:
        port = reactor.listenTCP(0, pb.PBServerFactory(EchoRoot()), interface="127.0.0.1")
        return client("127.0.0.1", port.getHost().port, args, "twisted-inprocess")
    srv = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", "--port", "0",
                            "--host", "127.0.0.1", "--watch-stdin"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        if not line.startswith("PORT "):
            sys.stderr.write("server did not start: %r\n" % line)
            return 1
        return client("127.0.0.1", int(line.split()[1]), args, "twisted")
    finally:
        srv.stdin.close()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


if __name__ == "__main__":
    sys.exit(main())
