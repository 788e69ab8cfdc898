import { describe, expect, it, vi } from 'vitest';
import { TOKEN_KEY, clearToken, getToken, initToken, setToken } from '../src/lib/token';

function fakeLocation(href: string) {
  return { href } as Location;
}

describe('token handling', () => {
  it('takes ?token= from the URL, stores it and removes it from the address bar', () => {
    const hist = { state: null, replaceState: vi.fn() } as unknown as History;
    const t = initToken(fakeLocation('http://127.0.0.1:8080/?token=s3cret&x=1#/tasks'), hist);
    expect(t).toBe('s3cret');
    expect(localStorage.getItem(TOKEN_KEY)).toBe('s3cret');
    expect(hist.replaceState).toHaveBeenCalledWith(null, '', '/?x=1#/tasks');
  });

  it('keeps the path and hash when the token was the only parameter', () => {
    const hist = { state: null, replaceState: vi.fn() } as unknown as History;
    initToken(fakeLocation('http://h:8080/dash/?token=abc#/nodes/n1'), hist);
    expect(hist.replaceState).toHaveBeenCalledWith(null, '', '/dash/#/nodes/n1');
  });

  it('uses the stored token when the URL has none, and leaves the URL alone', () => {
    setToken('stored');
    const hist = { state: null, replaceState: vi.fn() } as unknown as History;
    expect(initToken(fakeLocation('http://h/#/alerts'), hist)).toBe('stored');
    expect(hist.replaceState).not.toHaveBeenCalled();
  });

  it('a URL token replaces a stored one', () => {
    setToken('old');
    const hist = { state: null, replaceState: vi.fn() } as unknown as History;
    expect(initToken(fakeLocation('http://h/?token=new'), hist)).toBe('new');
  });

  it('returns null when there is no token anywhere; clearToken forgets it', () => {
    const hist = { state: null, replaceState: vi.fn() } as unknown as History;
    expect(initToken(fakeLocation('http://h/'), hist)).toBeNull();
    setToken('x');
    expect(getToken()).toBe('x');
    clearToken();
    expect(getToken()).toBeNull();
  });

  it('the real window: the address bar loses the token', () => {
    window.history.replaceState(null, '', '/?token=fromurl#/topology');
    expect(initToken()).toBe('fromurl');
    expect(window.location.search).toBe('');
    expect(window.location.hash).toBe('#/topology');
  });
});
