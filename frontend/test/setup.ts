import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// React Flow measures its box with ResizeObserver, which jsdom lacks.  It
// is installed once for the whole run: a per-test stub removed in an
// afterEach raced React's passive effects of a page not yet unmounted.
class NoResize {
  observe() {}
  unobserve() {}
  disconnect() {}
}
if (!('ResizeObserver' in globalThis)) {
  (globalThis as { ResizeObserver?: unknown }).ResizeObserver = NoResize;
}

afterEach(() => {
  cleanup();
  localStorage.clear();
});
