# The change sender of the master benchmarks: a separate process speaking Twisted's own PB
# (not Lathe's), so both masters get the same bytes from the same client. Like
# `buildbot sendchange`, each change opens a connection, logs in to the PB change source,
# calls addChange(changedict) and disconnects once it is answered.
#
#   /usr/bin/python3 bench/master/sendchange.py --port N [--user change --passwd changepw]
#
# Reads JSON lines on stdin, writes JSON lines on stdout; times are epoch milliseconds
# (time.time(), the clock `date +%s%N` reads too):
#   {"send": K}  → K changes one after another, each printed as
#                  {"sent": i, "connectAt": t, "callAt": t, "ackAt": t}, then {"done": K}
import argparse
import json
import sys
import time

from twisted.cred import credentials
from twisted.internet import defer, reactor, stdio
from twisted.protocols.basic import LineReceiver
from twisted.spread import pb

args = argparse.ArgumentParser()
args.add_argument('--port', type=int, required=True)
args.add_argument('--user', default='change')
args.add_argument('--passwd', default='changepw')
opts = args.parse_args()

counter = [0]


def now_ms():
    return time.time() * 1000.0


def out(msg):
    sys.stdout.write(json.dumps(msg) + '\n')
    sys.stdout.flush()


@defer.inlineCallbacks
def send_one():
    counter[0] += 1
    n = counter[0]
    change = {
        'project': 'bench', 'repository': 'bench', 'who': 'bench <bench@example.org>',
        'files': ['f'], 'comments': 'change %d' % n, 'branch': 'main',
        'revision': 'r%d' % n, 'category': None, 'when': None, 'properties': {},
        'revlink': '', 'src': None,
    }
    connect_at = now_ms()
    factory = pb.PBClientFactory()
    login = factory.login(credentials.UsernamePassword(opts.user.encode(), opts.passwd.encode()))
    reactor.connectTCP('127.0.0.1', opts.port, factory)
    remote = yield login
    call_at = now_ms()
    yield remote.callRemote('addChange', change)
    ack_at = now_ms()
    remote.broker.transport.loseConnection()
    out({'sent': n, 'connectAt': connect_at, 'callAt': call_at, 'ackAt': ack_at})


@defer.inlineCallbacks
def send(k):
    for _ in range(k):
        yield send_one()
    out({'done': k})


class Commands(LineReceiver):
    delimiter = b'\n'

    def lineReceived(self, line):
        msg = json.loads(line)
        d = send(int(msg['send']))
        d.addErrback(self.failed)

    def failed(self, failure):
        out({'error': failure.getErrorMessage()})

    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


stdio.StandardIO(Commands())
reactor.run()
