// The API token: taken from ?token= in the URL (the start script prints a
// URL carrying it), kept in localStorage, and removed from the address bar
// so it does not linger in history, bookmarks or screenshots.

export const TOKEN_KEY = 'agentflow.token';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // disabled storage (privacy modes)
  }
}

export function getToken(): string | null {
  const v = storage()?.getItem(TOKEN_KEY);
  return v ? v : null;
}

export function setToken(token: string): void {
  storage()?.setItem(TOKEN_KEY, token.trim());
}

export function clearToken(): void {
  storage()?.removeItem(TOKEN_KEY);
}

/**
 * Moves a ?token= from the page URL into storage and rewrites the address
 * bar without it (history.replaceState keeps the path, other parameters and
 * the #route).  Returns the token to use: the URL's, else the stored one.
 */
export function initToken(loc: Location = window.location, hist: History = window.history): string | null {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    const search = url.searchParams.toString();
    hist.replaceState(hist.state, '', `${url.pathname}${search ? `?${search}` : ''}${url.hash}`);
    if (fromUrl.trim()) setToken(fromUrl);
  }
  return getToken();
}
