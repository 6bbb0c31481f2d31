/**
 * errno numbers and glibc's messages for them. Buildbot's fs commands report a
 * failure as `rc = errno` plus a header quoting strerror (`mkdir: Permission
 * denied: /x`), and exceptions as Python's OSError subclasses, so the worker
 * needs both the numbers and the texts a Linux worker would produce.
 */
import { constants } from 'node:os';

const messages: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  EDQUOT: 'Disk quota exceeded',
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
};

/** Python's OSError subclass for an errno code (`FileNotFoundError` for ENOENT…). */
const pythonClasses: Record<string, string> = {
  ENOENT: 'FileNotFoundError',
  EEXIST: 'FileExistsError',
  EACCES: 'PermissionError',
  EPERM: 'PermissionError',
  ENOTDIR: 'NotADirectoryError',
  EISDIR: 'IsADirectoryError',
  ESRCH: 'ProcessLookupError',
  EINTR: 'InterruptedError',
  ETIMEDOUT: 'TimeoutError',
  ECONNREFUSED: 'ConnectionRefusedError',
};

export interface ErrnoInfo {
  /** Positive errno number (2 for ENOENT). */
  errno: number;
  /** Symbolic code (`ENOENT`). */
  code: string;
  /** glibc's strerror text. */
  strerror: string;
  /** Python exception class raised for it (`FileNotFoundError`, else `OSError`). */
  pythonClass: string;
}

/** Describes a Node.js system error, or returns undefined for other errors. */
export function errnoInfo(err: unknown): ErrnoInfo | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return undefined;
  const errno = (constants.errno as Record<string, number>)[code];
  if (errno === undefined) return undefined;
  return {
    errno,
    code,
    strerror: messages[code] ?? code,
    pythonClass: pythonClasses[code] ?? 'OSError',
  };
}
