import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { Connection } from './lib/connection';
import { StoreContext } from './lib/hooks';
import { Store } from './lib/store';
import { initToken } from './lib/token';
import './styles.css';

initToken(); // ?token= → localStorage, and out of the address bar

const store = new Store();
const connection = new Connection(store);
connection.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App connection={connection} />
    </StoreContext.Provider>
  </StrictMode>,
);
