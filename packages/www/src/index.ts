// @lathe/www — under construction; see the issues tracker.
export {};
