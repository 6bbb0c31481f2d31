"""Writes a tiny SQLite database shaped like a Buildbot 3.7 master's (only the
tables and columns dbdump.py reads), with one stdio log whose chunks use every
compression Buildbot knows: raw, zlib ("gz"), bz2 and lz4. For dbdump's tests.

  fixture_db.py PATH
"""
import bz2
import sqlite3
import sys
import zlib

import lz4.block

db = sqlite3.connect(sys.argv[1])
db.executescript('''
CREATE TABLE builders (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE builds (id INTEGER PRIMARY KEY, number INTEGER, builderid INTEGER, results INTEGER,
                     state_string TEXT, started_at INTEGER, complete_at INTEGER);
CREATE TABLE steps (id INTEGER PRIMARY KEY, number INTEGER, name TEXT, buildid INTEGER, results INTEGER,
                    state_string TEXT, started_at INTEGER, complete_at INTEGER, hidden INTEGER);
CREATE TABLE logs (id INTEGER PRIMARY KEY, name TEXT, slug TEXT, stepid INTEGER, complete INTEGER,
                   num_lines INTEGER, type TEXT);
CREATE TABLE logchunks (logid INTEGER, first_line INTEGER, last_line INTEGER, content BLOB,
                        compressed INTEGER);
CREATE TABLE workers (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE connected_workers (id INTEGER PRIMARY KEY, masterid INTEGER, workerid INTEGER);
INSERT INTO builders VALUES (1, 'b');
INSERT INTO builds VALUES (1, 1, 1, 2, 'failed', 1000, 1010);
INSERT INTO steps VALUES (1, 0, 'shell', 1, 2, 'failed', 1000, 1010, 0);
INSERT INTO logs VALUES (1, 'stdio', 'stdio', 1, 1, 9, 's');
INSERT INTO logs VALUES (2, 'summary', 'summary', 1, 1, 1, 't');
INSERT INTO workers VALUES (7, 'w1');
INSERT INTO connected_workers VALUES (1, 1, 7);
''')
# chunks are stored without their final newline (buildbot/db/logs.py)
chunks = [
    (0, 1, b'hcommand line\nostdout 1', 0, lambda b: b),
    (2, 3, b'ostdout 2 \xc3\xa9\neerr 1', 1, lambda b: zlib.compress(b, 9)),
    (4, 6, b'o\nhelapsedTime=1.5\no3', 2, lambda b: bz2.compress(b, 9)),
    (7, 8, b'elast err\nolast', 3, lz4.block.compress),
]
for first, last, content, kind, enc in chunks:
    db.execute('INSERT INTO logchunks VALUES (1, ?, ?, ?, ?)', (first, last, enc(content), kind))
db.execute('INSERT INTO logchunks VALUES (2, 0, 0, ?, 0)', (b'all good',))
db.commit()
