import { useState } from 'react';

interface Props {
  error: string | null;
  onSubmit: (token: string) => void;
}

export function TokenForm({ error, onSubmit }: Props) {
  const [token, setToken] = useState('');
  return (
    <div className="token-page">
      <form
        className="card token-card"
        data-testid="token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSubmit(token.trim());
        }}
      >
        <h2>AgentFlow</h2>
        <p className="muted">
          This dashboard needs the node's API token (read or write). The start script prints a URL that carries it; or find it
          in <code>DATA_DIR/tokens.json</code>.
        </p>
        {error && (
          <p className="error" data-testid="token-error" role="alert">
            {error}
          </p>
        )}
        <label>
          Token
          <input
            data-testid="token-input"
            type="password"
            autoComplete="off"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        <button className="primary" type="submit" data-testid="token-submit" disabled={!token.trim()}>
          Connect
        </button>
      </form>
    </div>
  );
}
