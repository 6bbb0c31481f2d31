/**
 * A streaming tar writer for uploadDirectory: the directory's contents with
 * member names relative to it (the directory itself as `./`), entries sorted by
 * name as Python's tarfile adds them, POSIX pax headers for what ustar cannot
 * hold (long or non-ASCII names, huge sizes). Regular files, directories,
 * symlinks, hard links, FIFOs and device nodes are archived; sockets are
 * skipped, as tarfile does.
 */
import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';

const BLOCK = 512;
/** tarfile pads the archive to a multiple of 20 blocks. */
const RECORD = 20 * BLOCK;
const CHUNK = 64 * 1024;

const TYPE = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

export async function* tarDirectory(root: string): AsyncGenerator<Uint8Array> {
  const links = new Map<string, string>();
  let written = 0;
  const emit = (chunk: Uint8Array) => {
    written += chunk.length;
    return chunk;
  };
  for (const [arcname, path] of walk(root)) {
    const st = lstatSync(path, { bigint: true });
    const entry = describe(st, arcname, path, links);
    if (!entry) continue;
    for (const block of headerBlocks(entry)) yield emit(block);
    if (entry.type === TYPE.file && entry.size > 0n) {
      for await (const chunk of fileContents(path, entry.size)) yield emit(chunk);
      const rest = Number(entry.size % BigInt(BLOCK));
      if (rest) yield emit(new Uint8Array(BLOCK - rest));
    }
  }
  const trailer = 2 * BLOCK;
  const total = written + trailer;
  yield emit(new Uint8Array(trailer + ((RECORD - (total % RECORD)) % RECORD)));
}

/** [arcname, path] pairs, depth first, directory entries sorted by name. */
function* walk(root: string): Generator<[string, string]> {
  yield ['./', root];
  if (!lstatSync(root).isDirectory()) return;
  yield* walkBelow(root, '');
}

function* walkBelow(dir: string, prefix: string): Generator<[string, string]> {
  for (const name of readdirSync(dir).sort()) {
    const path = `${dir}/${name}`;
    const arcname = prefix + name;
    yield [arcname, path];
    if (lstatSync(path).isDirectory()) yield* walkBelow(path, `${arcname}/`);
  }
}

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: bigint;
  gid: bigint;
  size: bigint;
  mtime: bigint;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function describe(
  st: BigIntStats,
  arcname: string,
  path: string,
  links: Map<string, string>,
): Entry | undefined {
  const base = {
    name: arcname,
    mode: Number(st.mode & 0o7777n),
    uid: st.uid,
    gid: st.gid,
    size: 0n,
    mtime: st.mtimeNs / 1_000_000_000n,
    linkname: '',
    devmajor: 0,
    devminor: 0,
  };
  if (st.isDirectory())
    return { ...base, type: TYPE.dir, name: arcname.endsWith('/') ? arcname : `${arcname}/` };
  if (st.isSymbolicLink()) return { ...base, type: TYPE.symlink, linkname: readlinkSync(path) };
  if (st.isFile()) {
    const inode = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? links.get(inode) : undefined;
    if (first !== undefined) return { ...base, type: TYPE.hardlink, linkname: first };
    if (st.nlink > 1n) links.set(inode, arcname);
    return { ...base, type: TYPE.file, size: st.size };
  }
  if (st.isFIFO()) return { ...base, type: TYPE.fifo };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const rdev = st.rdev;
    return {
      ...base,
      type: st.isCharacterDevice() ? TYPE.char : TYPE.block,
      devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
      devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
    };
  }
  return undefined; // sockets
}

async function* fileContents(path: string, size: bigint): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    let left = size;
    while (left > 0n) {
      const want = left < BigInt(CHUNK) ? Number(left) : CHUNK;
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      // A file that shrank while being archived is padded to its announced size.
      if (bytesRead === 0) {
        yield buffer;
      } else {
        yield buffer.subarray(0, bytesRead);
      }
      left -= BigInt(bytesRead === 0 ? want : bytesRead);
    }
  } finally {
    await handle.close();
  }
}

const encoder = new TextEncoder();

function headerBlocks(entry: Entry): Uint8Array[] {
  const pax: Record<string, string> = {};
  const nameBytes = encoder.encode(entry.name);
  const linkBytes = encoder.encode(entry.linkname);
  if (nameBytes.length > 100 || !isAscii(entry.name)) pax.path = entry.name;
  if (linkBytes.length > 100 || !isAscii(entry.linkname)) pax.linkpath = entry.linkname;
  if (entry.size > 0o77777777777n) pax.size = entry.size.toString();
  if (entry.uid > 0o7777777n) pax.uid = entry.uid.toString();
  if (entry.gid > 0o7777777n) pax.gid = entry.gid.toString();
  if (entry.mtime > 0o77777777777n || entry.mtime < 0n) pax.mtime = entry.mtime.toString();

  const blocks: Uint8Array[] = [];
  if (Object.keys(pax).length > 0) {
    const body = encoder.encode(
      Object.entries(pax)
        .map(([k, v]) => paxRecord(k, v))
        .join(''),
    );
    const paxName = `./PaxHeaders/${asciiOnly(entry.name).slice(-80)}`;
    blocks.push(
      ustarHeader({ ...entry, name: paxName, type: 'x', size: BigInt(body.length), linkname: '' }),
      padded(body),
    );
  }
  blocks.push(
    ustarHeader({
      ...entry,
      name: pax.path === undefined ? entry.name : asciiOnly(entry.name).slice(0, 100),
      linkname: pax.linkpath === undefined ? entry.linkname : asciiOnly(entry.linkname).slice(0, 100),
      size: pax.size === undefined ? entry.size : 0n,
      uid: pax.uid === undefined ? entry.uid : 0n,
      gid: pax.gid === undefined ? entry.gid : 0n,
      mtime: pax.mtime === undefined ? entry.mtime : 0n,
    }),
  );
  return blocks;
}

/** "<length> <key>=<value>\n", where length counts the whole record. */
function paxRecord(key: string, value: string): string {
  const payload = ` ${key}=${value}\n`;
  const payloadLength = encoder.encode(payload).length;
  let length = payloadLength + 1;
  while (String(length).length + payloadLength !== length) length = String(length).length + payloadLength;
  return `${length}${payload}`;
}

function ustarHeader(entry: Entry): Uint8Array {
  const h = new Uint8Array(BLOCK);
  putText(h, 0, 100, entry.name);
  putOctal(h, 100, 8, BigInt(entry.mode));
  putOctal(h, 108, 8, entry.uid);
  putOctal(h, 116, 8, entry.gid);
  putOctal(h, 124, 12, entry.size);
  putOctal(h, 136, 12, entry.mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  putText(h, 156, 1, entry.type);
  putText(h, 157, 100, entry.linkname);
  putText(h, 257, 6, 'ustar\0');
  putText(h, 263, 2, '00');
  putOctal(h, 329, 8, BigInt(entry.devmajor));
  putOctal(h, 337, 8, BigInt(entry.devminor));
  const sum = h.reduce((a, b) => a + b, 0);
  putText(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function putText(h: Uint8Array, offset: number, width: number, text: string): void {
  h.set(encoder.encode(text).subarray(0, width), offset);
}

function putOctal(h: Uint8Array, offset: number, width: number, value: bigint): void {
  putText(h, offset, width, `${value.toString(8).padStart(width - 1, '0')}\0`);
}

function padded(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(body.length / BLOCK) * BLOCK);
  out.set(body);
  return out;
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

function asciiOnly(s: string): string {
  return s.replace(/[^\x00-\x7f]/g, '_');
}
