// @lathe/master — under construction; see the issues tracker.
export {};
