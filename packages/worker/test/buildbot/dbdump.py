"""Reads a Buildbot 3.7 master's SQLite database for Lathe's worker harness.

Run with the system Python (/usr/bin/python3); prints one JSON document:

  dbdump.py DB builds        every build: id, builder, number, results, state, times
  dbdump.py DB workers       names of the connected workers
  dbdump.py DB full [MAX]    builds with their steps and logs, chunks decoded (logs of more
                             than MAX lines: stats as for logstats instead of text)
  dbdump.py DB logstats ID   decoded size, number of lines, bytes per channel of log ID

Log chunks are stored compressed per the `compressed` column: 0 raw, 1 zlib
("gz"), 2 bz2, 3 lz4 block. Content is returned as text (UTF-8, as stored).
"""
import bz2
import json
import sqlite3
import sys
import zlib


def decode_chunk(content, compressed):
    if compressed == 0:
        return content
    if compressed == 1:
        return zlib.decompress(content)
    if compressed == 2:
        return bz2.decompress(content)
    if compressed == 3:
        import lz4.block
        return lz4.block.decompress(content)
    raise ValueError('unknown log compression %r' % (compressed,))


def connect(path):
    db = sqlite3.connect('file:%s?mode=ro' % path, uri=True, timeout=30)
    db.row_factory = sqlite3.Row
    return db


def builds(db):
    rows = db.execute(
        'SELECT b.id, b.number, b.results, b.state_string, b.started_at, b.complete_at, '
        'bl.name AS builder FROM builds b JOIN builders bl ON bl.id = b.builderid ORDER BY b.id')
    return [dict(r) for r in rows]


def log_text(db, logid):
    parts = []
    for r in db.execute('SELECT content, compressed FROM logchunks WHERE logid = ? ORDER BY first_line',
                        (logid,)):
        data = decode_chunk(bytes(r['content']), r['compressed'])
        parts.append(data + b'\n')  # chunks are stored without their last newline
    return b''.join(parts).decode('utf-8', 'replace')


def full(db, max_lines=None):
    out = builds(db)
    for b in out:
        b['steps'] = []
        for s in db.execute('SELECT id, number, name, results, state_string, started_at, complete_at, hidden '
                            'FROM steps WHERE buildid = ? ORDER BY number', (b['id'],)):
            step = dict(s)
            step['logs'] = []
            for lg in db.execute('SELECT id, name, slug, type, num_lines, complete FROM logs '
                                 'WHERE stepid = ? ORDER BY id', (s['id'],)):
                entry = dict(lg)
                if max_lines is None or lg['num_lines'] <= max_lines:
                    entry['text'] = log_text(db, lg['id'])
                else:  # too big to be useful as JSON: stats only
                    entry['text'] = None
                    entry['stats'] = logstats(db, lg['id'])
                step['logs'].append(entry)
            b['steps'].append(step)
    return out


def logstats(db, logid):
    size = 0
    channels = {}
    for r in db.execute('SELECT content, compressed, first_line FROM logchunks WHERE logid = ? '
                        'ORDER BY first_line', (logid,)):
        data = decode_chunk(bytes(r['content']), r['compressed'])
        size += len(data) + 1
        for line in data.split(b'\n'):
            ch = line[:1].decode('latin-1') or 'o'
            channels[ch] = channels.get(ch, 0) + len(line)  # channel letter dropped, newline kept
    row = db.execute('SELECT num_lines, type FROM logs WHERE id = ?', (logid,)).fetchone()
    return {'bytes': size, 'lines': row['num_lines'] if row else None,
            'channelBytes': channels if row and row['type'] == 's' else None}


def main(argv):
    db = connect(argv[1])
    mode = argv[2]
    if mode == 'builds':
        result = builds(db)
    elif mode == 'workers':
        result = [r[0] for r in db.execute(
            'SELECT w.name FROM connected_workers cw JOIN workers w ON w.id = cw.workerid')]
    elif mode == 'full':
        result = full(db, int(argv[3]) if len(argv) > 3 else None)
    elif mode == 'logstats':
        result = logstats(db, int(argv[3]))
    else:
        raise SystemExit('unknown mode %r' % mode)
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main(sys.argv)
