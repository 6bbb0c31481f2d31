// The log viewer. A log may be 100 MB: only the lines on screen are in the page, fetched
// in blocks by line range as they scroll into view; opening shows the first lines and has
// the tail ready; search runs on the server and answers line numbers to jump to. A log
// still being written follows its tail live from the log's own topic. Opening waits for
// the log's row only: its step and build (the heading) and its sections come alongside.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { renderAnsi } from '../ansi';
import { apiUrl, type LogLines, logLines, one, type Resource, type SectionMarker, searchLog } from '../api';
import { Loading } from '../components/common';
import { useAsync, useLive } from '../hooks';
import {
  RowMap,
  recordedSectionMarkers,
  type Section,
  searchSectionMarkers,
  sectionsOf,
  sectionTitle,
} from '../log-sections';
import { Link } from '../router';

const LINE_PX = 18;
const BLOCK = 500;
// Browsers cap an element's height (Chrome near 33.5M px): beyond this the scrollbar is
// scaled, and a scroll position maps to a line proportionally.
const MAX_PX = 15_000_000;

export function LogPage({ logid, line }: { logid: number; line: number | undefined }) {
  // Both asked for as the page renders, together: the first lines do not depend on the
  // log's row, so they cost one round trip instead of two (head is null when its read
  // failed: the view reads them again).
  const opening = useMemo(
    () => ({ row: one(`/logs/${logid}`), head: logLines(logid, 0, BLOCK).catch(() => null) }),
    [logid],
  );
  const state = useAsync(() => opening.row, [opening]);
  return (
    <main class="log-page">
      <Loading state={state}>
        {(log) =>
          log === null ? (
            <p class="error">There is no log {logid}.</p>
          ) : (
            <>
              <LogHeading log={log} />
              <LogView key={logid} log={log} head={opening.head} initialLine={line} />
            </>
          )
        }
      </Loading>
    </main>
  );
}

/** Build › step › log; the build link appears once its two reads answered. */
function LogHeading({ log }: { log: Resource }) {
  const where = useAsync(async () => {
    const step = await one(`/steps/${log.stepid}`);
    const build = step ? await one(`/builds/${step.buildid}`) : null;
    return { step, build };
  }, [log.logid]);
  const step = where.value?.step;
  const build = where.value?.build;
  return (
    <h1>
      {build ? (
        <Link to={`/builders/${build.builderid}/builds/${build.number}`}>build #{String(build.number)}</Link>
      ) : null}{' '}
      › {String(step?.name ?? '')} › {String(log.name)}
    </h1>
  );
}

function LogView({
  log,
  head,
  initialLine,
}: {
  log: Resource;
  head: Promise<LogLines | null>;
  initialLine: number | undefined;
}) {
  const logid = log.logid as number;
  const stdio = log.type === 's';
  const [total, setTotal] = useState(log.num_lines as number);
  const [complete, setComplete] = useState(Boolean(log.complete));
  const [follow, setFollow] = useState(!log.complete && initialLine === undefined);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [, setLoaded] = useState(0);
  const [highlight, setHighlight] = useState<number | undefined>(initialLine);
  const blocks = useRef(new Map<number, string[]>());
  const prefetchedHead = useRef<Promise<LogLines | null> | null>(head);
  const inflight = useRef(new Set<number>());
  const scroller = useRef<HTMLDivElement>(null);

  // Sections start folded (`+++` ones open); `toggled` holds the headers of those the
  // reader turned the other way. A jump into a folded one (search, a line link) opens it.
  const [markers, setMarkers] = useState<readonly SectionMarker[]>([]);
  const [unrecorded, setUnrecorded] = useState(false);
  const [toggled, setToggled] = useState(new Set<number>());
  const isOpen = (s: Section) => s.open !== toggled.has(s.start);
  useEffect(() => {
    const reading = new AbortController();
    recordedSectionMarkers(logid, reading.signal).then(
      (recorded) => (recorded === null ? setUnrecorded(true) : setMarkers(recorded)),
      () => {},
    );
    return () => reading.abort();
    // Read again when the log ends, when its last sections are closed.
  }, [logid, complete]);
  // A log from before the server recorded markers is searched for them: four reads of the
  // whole log, so only once its first and last lines are drawn, and cancelled (the server
  // stops too) when the reader leaves.
  const [linesDrawn, setLinesDrawn] = useState(false);
  useEffect(() => {
    if (!unrecorded || !linesDrawn) return;
    const searching = new AbortController();
    searchSectionMarkers(logid, searching.signal).then(setMarkers, () => {});
    return () => searching.abort();
  }, [unrecorded, linesDrawn, complete]);
  const sections = useMemo(() => sectionsOf(markers, total), [markers, total]);
  const map = useMemo(
    () =>
      new RowMap(
        total,
        sections.filter((s) => !isOpen(s)),
      ),
    [total, sections, toggled],
  );
  const sectionAt = useMemo(() => new Map(sections.map((s) => [s.start, s])), [sections]);
  const rowCount = map.rows;

  const totalPx = Math.max(rowCount * LINE_PX, 0);
  const scaled = totalPx > MAX_PX;
  const virtualPx = scaled ? MAX_PX : totalPx;
  const visible = Math.ceil(height / LINE_PX) + 1;
  const first = scaled
    ? Math.round((scrollTop / Math.max(virtualPx - height, 1)) * Math.max(rowCount - visible + 1, 0))
    : Math.floor(scrollTop / LINE_PX);
  const windowTop = scaled ? scrollTop : first * LINE_PX;

  const fetchBlock = (b: number) => {
    if (blocks.current.has(b) || inflight.current.has(b)) return;
    inflight.current.add(b);
    const prefetched = b === 0 ? prefetchedHead.current : null;
    if (b === 0) prefetchedHead.current = null;
    const read = async () => {
      const early = await prefetched;
      // Read before the log's row: a log that grew since has more lines than it holds.
      return early && early.lines.length >= Math.min(BLOCK, total)
        ? early
        : logLines(logid, b * BLOCK, BLOCK);
    };
    read()
      .then((r) => {
        // A block the log has not filled yet is fetched again as lines arrive.
        if (r.lines.length > 0) blocks.current.set(b, r.lines);
        setLoaded((n) => n + 1);
      })
      .finally(() => inflight.current.delete(b));
  };

  const pendingJump = useRef<number | null>(null);
  const [jumps, setJumps] = useState(0);
  useLayoutEffect(() => {
    const line = pendingJump.current;
    const el = scroller.current;
    if (line === null || !el) return;
    pendingJump.current = null;
    el.scrollTop = Math.max(topOf(map.row(line), map.rows) - height / 3, 0);
  }, [jumps, map]);
  const topOf = (row: number, rows: number) =>
    scaled ? (row / Math.max(rows - visible + 1, 1)) * Math.max(virtualPx - height, 0) : row * LINE_PX;
  const jump = (line: number) => {
    setFollow(false);
    setHighlight(line);
    // Open the section hiding the line; the scroll waits for the render that makes the
    // spacer tall enough for its row (the layout effect below).
    const hiding = sections.filter((s) => line > s.start && line <= s.end && !isOpen(s));
    if (hiding.length > 0) {
      const next = new Set(toggled);
      for (const s of hiding) if (!next.delete(s.start)) next.add(s.start);
      setToggled(next);
    }
    pendingJump.current = line;
    setJumps((n) => n + 1);
  };

  // What is on screen, plus the tail (so End shows at once), is fetched; asked for before
  // the browser paints, not after.
  const tailBlock = Math.floor((total - 1) / BLOCK);
  useLayoutEffect(() => {
    for (let r = first; r < Math.min(first + visible, rowCount); r++)
      fetchBlock(Math.floor(map.line(r) / BLOCK));
    if (total > 0) fetchBlock(tailBlock);
  });
  useEffect(() => {
    if (!linesDrawn && blocks.current.has(0) && blocks.current.has(tailBlock)) setLinesDrawn(true);
  });

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    if (initialLine !== undefined) jump(initialLine);
    return () => ro.disconnect();
  }, []);

  // Where following last put the view: only a scroll above it is the reader's, and stops
  // following (scroll events of our own arrive late, after more lines may have come).
  const followedTo = useRef(0);
  useEffect(() => {
    const el = scroller.current;
    if (!follow || !el) return;
    el.scrollTop = el.scrollHeight;
    followedTo.current = el.scrollTop;
  }, [follow, total]);

  useLive([`logs.${logid}`], (m) => {
    if (m.type === 'resync') {
      blocks.current.clear();
      setLoaded((n) => n + 1);
      return;
    }
    const lines = m.resource.num_lines as number;
    // The block that held the old last line grew: read it again.
    blocks.current.delete(Math.floor(Math.max(total - 1, 0) / BLOCK));
    setTotal(lines);
    if (m.event === 'finished' || m.resource.complete) setComplete(true);
  });

  const rows = [];
  for (let r = first; r < Math.min(first + visible, rowCount); r++) {
    const n = map.line(r);
    const text = blocks.current.get(Math.floor(n / BLOCK))?.[n % BLOCK];
    const stream = stdio && text ? text[0] : '';
    const body = text === undefined ? '' : stdio ? text.slice(1) : text;
    const section = sectionAt.get(n);
    rows.push(
      <div
        key={n}
        class={`line stream-${stream || 'o'}${n === highlight ? ' highlight' : ''}`}
        id={`L${n + 1}`}
      >
        <a
          class="lineno"
          href={`#L${n + 1}`}
          onClick={(e) => {
            e.preventDefault();
            history.replaceState(null, '', `?line=${n + 1}`);
            setHighlight(n);
          }}
        >
          {n + 1}
        </a>
        {section ? (
          <button
            type="button"
            class="section-toggle"
            aria-expanded={isOpen(section)}
            onClick={() => {
              const next = new Set(toggled);
              if (!next.delete(n)) next.add(n);
              setToggled(next);
            }}
          >
            {isOpen(section) ? '▾' : '▸'} {sectionTitle(body)}{' '}
            <span class="muted">({section.end - section.start} lines)</span>
          </button>
        ) : (
          <span class="text">{text === undefined ? '…' : renderAnsi(body)}</span>
        )}
      </div>,
    );
  }

  return (
    <div class="log-view">
      <div class="log-toolbar">
        <span data-testid="log-lines">
          {total} lines{complete ? '' : ' (running)'}
        </span>
        <button type="button" onClick={() => jump(0)}>
          Top
        </button>
        <button type="button" onClick={() => jump(Math.max(total - 1, 0))}>
          End
        </button>
        {!complete ? (
          <label>
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />{' '}
            follow
          </label>
        ) : null}
        <a href={apiUrl(`/logs/${logid}/raw`)} download>
          raw
        </a>
        <Search logid={logid} onJump={jump} />
      </div>
      <div
        class="log-scroller"
        ref={scroller}
        data-testid="log-scroller"
        onScroll={(e) => {
          const el = e.currentTarget;
          setScrollTop(el.scrollTop);
          if (follow && el.scrollTop < followedTo.current - LINE_PX) setFollow(false);
        }}
      >
        <div style={{ height: `${virtualPx}px`, position: 'relative' }}>
          <div class="log-window" style={{ transform: `translateY(${windowTop}px)` }}>
            {rows}
          </div>
        </div>
      </div>
    </div>
  );
}

function Search({ logid, onJump }: { logid: number; onJump: (line: number) => void }) {
  const [q, setQ] = useState('');
  const [regex, setRegex] = useState(false);
  const [result, setResult] = useState<{ matches: number[]; truncated: boolean; error?: string } | null>(
    null,
  );
  const [at, setAt] = useState(0);
  const go = (i: number) => {
    if (!result || result.matches.length === 0) return;
    const k = (i + result.matches.length) % result.matches.length;
    setAt(k);
    onJump(result.matches[k]!);
  };
  const label = useMemo(() => {
    if (!result) return '';
    if (result.error) return result.error;
    if (result.matches.length === 0) return 'no match';
    return `${at + 1} of ${result.matches.length}${result.truncated ? '+' : ''}`;
  }, [result, at]);
  return (
    <form
      class="log-search"
      onSubmit={async (e) => {
        e.preventDefault();
        if (q === '') return;
        try {
          const r = await searchLog(logid, q, { regex });
          setResult(r);
          setAt(0);
          if (r.matches.length > 0) onJump(r.matches[0]!);
        } catch (err) {
          setResult({ matches: [], truncated: false, error: (err as Error).message });
        }
      }}
    >
      <input
        type="search"
        placeholder="search log"
        aria-label="search log"
        value={q}
        onInput={(e) => setQ(e.currentTarget.value)}
      />
      <label>
        <input type="checkbox" checked={regex} onChange={(e) => setRegex(e.currentTarget.checked)} /> regex
      </label>
      <button type="submit">Find</button>
      <button
        type="button"
        onClick={() => go(at - 1)}
        disabled={!result?.matches.length}
        aria-label="previous match"
      >
        ↑
      </button>
      <button
        type="button"
        onClick={() => go(at + 1)}
        disabled={!result?.matches.length}
        aria-label="next match"
      >
        ↓
      </button>
      <span data-testid="search-result">{label}</span>
    </form>
  );
}
