// Builds the single-page app in app/ into dist/app, which the master serves (see
// src/index.ts). `base: './'` keeps every asset URL relative, so the same build works at
// the root and behind a reverse proxy under any prefix: the master puts the page's
// <base href> in index.html.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'app',
  base: './',
  plugins: [preact()],
  build: { outDir: '../dist/app', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 300 },
});
