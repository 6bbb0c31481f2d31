/** Reported to masters as the worker's version (shown in their UI). */
export const WORKER_VERSION = '0.1.0';
