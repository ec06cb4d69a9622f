import { defineConfig } from 'vite';

/** The sandboxed preload must be one CommonJS file whose only require is 'electron'. */
export default defineConfig({
  build: {
    outDir: 'dist/app/electron',
    emptyOutDir: false,
    minify: false,
    sourcemap: true,
    target: 'node20',
    lib: {
      entry: 'electron/preload.ts',
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
