export { runWhenInvoked, seconds, UsageError } from './cli.js';
export {
  AlreadyRunningError,
  claimPidFile,
  type DaemonIdentity,
  isAlive,
  isDaemonProcess,
  readPid,
  releasePidFile,
  runningPid,
} from './pid-file.js';
export { DEFAULT_LOG_COUNT, DEFAULT_LOG_SIZE, RotatingLog } from './rotating-log.js';
