// @lathe/www — the web UI is planned; this package has no code yet (see README.md).
export {};
