/** A hash route that names no page: say so, rather than showing another page as if it were asked for. */
export function NotFound({ path }: { path: string }) {
  return (
    <div className="card not-found" data-testid="not-found">
      <h2>Page not found</h2>
      <p>
        The dashboard has no page at <code data-testid="not-found-path">#{path}</code>.
      </p>
      <p>
        <a href="#/topology" data-testid="not-found-home">
          Go to the overview
        </a>
      </p>
    </div>
  );
}
