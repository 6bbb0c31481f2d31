// @lathe/worker — under construction; see the issues tracker.
export {};
