// Vite for the React client. `npm run build` writes dist/client (hashed assets with .br/.gz copies),
// which `npm start` serves; in `npm run dev` the Express app runs Vite in middleware mode (one port,
// hot reload).
import { fileURLToPath } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { servableOutput } from './build-plugins.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  publicDir: false,
  plugins: [react(), tailwindcss(), servableOutput({ sourceMapsDir: here('../dist/sourcemaps') })],
  build: {
    outDir: here('../dist/client'),
    emptyOutDir: true,
    // Maps for error tools, without the sourceMappingURL comment, moved out of dist/client after the
    // build (build-plugins.ts): nothing public points to them or serves them.
    sourcemap: 'hidden',
    rolldownOptions: {
      output: {
        // Libraries change less often than our code: their own chunks stay cached across deploys.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/ },
            { name: 'forms', test: /node_modules[\\/]react-hook-form[\\/]/ },
            { name: 'validation', test: /node_modules[\\/](zod|@hookform)[\\/]/ },
          ],
        },
      },
    },
  },
});
