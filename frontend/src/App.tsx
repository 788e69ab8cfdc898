import { lazy, Suspense } from 'react';
import { Header } from './components/Header';
import { TokenForm } from './components/TokenForm';
import type { Connection } from './lib/connection';
import { useDocumentTitle, useRoute, useStore } from './lib/hooks';
import { Alerts } from './pages/Alerts';
import { Artifacts } from './pages/Artifacts';
import { Audit } from './pages/Audit';
import { Jobs } from './pages/Jobs';
import { NodeDetail } from './pages/NodeDetail';
import { Nodes } from './pages/Nodes';
import { NotFound } from './pages/NotFound';
import { Services } from './pages/Services';
import { Tasks } from './pages/Tasks';
import { Timeline } from './pages/Timeline';
import { Topology } from './pages/Topology';

// The workflow page draws with React Flow: loaded when first opened, so the
// rest of the dashboard does not carry it.
const Workflows = lazy(() => import('./pages/Workflows').then((m) => ({ default: m.Workflows })));

function Footer() {
  const received = useStore((s) => s.received);
  const n = useStore((s) => s.timeline.length);
  return (
    <footer className="muted small foot">
      {received} messages received · {n} events in the timeline
    </footer>
  );
}

export function App({ connection }: { connection: Pick<Connection, 'useToken' | 'signOut'> }) {
  const conn = useStore((s) => s.conn);
  const route = useRoute();
  useDocumentTitle();

  if (conn.state === 'unauthorized') return <TokenForm error={conn.error} onSubmit={(t) => connection.useToken(t)} />;

  let page;
  switch (route.page) {
    case 'nodes':
      page = <Nodes />;
      break;
    case 'node':
      page = <NodeDetail id={route.param ?? ''} />;
      break;
    case 'tasks':
      page = <Tasks param={route.param} />;
      break;
    case 'jobs':
      page = <Jobs param={route.param} />;
      break;
    case 'workflows':
      page = (
        <Suspense fallback={<p className="muted">loading…</p>}>
          <Workflows param={route.param} />
        </Suspense>
      );
      break;
    case 'services':
      page = <Services param={route.param} />;
      break;
    case 'artifacts':
      page = <Artifacts />;
      break;
    case 'alerts':
      page = <Alerts param={route.param} />;
      break;
    case 'timeline':
      page = <Timeline />;
      break;
    case 'audit':
      page = <Audit />;
      break;
    case 'notfound':
      page = <NotFound path={route.param} />;
      break;
    default:
      page = <Topology />;
  }
  return (
    <div className="app">
      <Header page={route.page} onSignOut={() => connection.signOut()} />
      <main>{page}</main>
      <Footer />
    </div>
  );
}
