// Builds the page into the directory named by KURZ_SHLINK_WEB_DIST (scripts/compat-fixtures.sh
// passes target/compat/shlink-web/dist), or ./dist.
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: process.env.KURZ_SHLINK_WEB_DIST ?? 'dist',
    emptyOutDir: true,
    // One page for a test, not a site to optimise: silence the size warning.
    chunkSizeWarningLimit: 10_000,
  },
});
