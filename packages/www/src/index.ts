// @lathe/www: the web UI, a single-page app built into dist/app by Vite (vite.config.ts;
// sources in app/). The master serves it from its HTTP port; this module tells the master
// where the built files are. It has no runtime dependencies: what ships is static files.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The directory holding the built app (index.html and assets/). */
export const appDir: string = fileURLToPath(new URL('../app/', import.meta.url));

/** Whether the app has been built (`npm run build` does it). */
export function appBuilt(): boolean {
  return existsSync(`${appDir}index.html`);
}
