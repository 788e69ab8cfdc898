/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The node serves dist/ at `/`; relative asset paths keep it portable.
// `npm run dev` proxies /api and /ws to a node (AGENTFLOW_NODE, default
// 127.0.0.1:8080).  The node accepts loopback Origins on any port.
const node = process.env.AGENTFLOW_NODE ?? '127.0.0.1:8080';

export default defineConfig({
  base: './',
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: `http://${node}`, changeOrigin: true },
      '/healthz': { target: `http://${node}`, changeOrigin: true },
      '/ws': { target: `ws://${node}`, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./test/setup.ts'],
    include: ['test/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
