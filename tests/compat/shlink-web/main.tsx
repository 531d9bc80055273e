// A page that hosts Shlink's published web component against one Shlink server (kurz in the
// tests): `?url=<server base URL>&key=<API key>` on the first load names it. The pair is kept in
// sessionStorage, so that the component's own routes (/list-short-urls/1, ...) work after a
// reload too. As the component's dev app does, the server's version comes from its health
// endpoint and gates the component's features.
import { ShlinkApiClient } from '@shlinkio/shlink-js-sdk';
import { FetchHttpClient } from '@shlinkio/shlink-js-sdk/fetch';
import { ShlinkWebComponent } from '@shlinkio/shlink-web-component';
import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import './style.css';

type Server = { baseUrl: string; apiKey: string };

const STORAGE_KEY = 'kurz-shlink-server';

function serverFromPage(): Server | null {
  const query = new URLSearchParams(window.location.search);
  const baseUrl = query.get('url');
  const apiKey = query.get('key');
  if (baseUrl && apiKey) {
    const server = { baseUrl: baseUrl.replace(/\/+$/, ''), apiKey };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(server));
    return server;
  }
  const kept = sessionStorage.getItem(STORAGE_KEY);
  return kept ? (JSON.parse(kept) as Server) : null;
}

function App({ server }: { server: Server }) {
  const apiClient = useMemo(() => new ShlinkApiClient(new FetchHttpClient(), server), [server]);
  const [version, setVersion] = useState<string>();
  const [failure, setFailure] = useState<string>();

  useEffect(() => {
    apiClient
      .health()
      .then((health) => setVersion(health.version))
      .catch((error: unknown) => setFailure(JSON.stringify(error) ?? String(error)));
  }, [apiClient]);

  if (failure) {
    return <p id="connection-error">Cannot reach {server.baseUrl}: {failure}</p>;
  }
  if (!version) {
    return <p id="connecting">Connecting to {server.baseUrl}</p>;
  }
  return (
    <div id="connected" data-server-version={version}>
      <ShlinkWebComponent
        serverVersion={version as `${number}.${number}.${number}`}
        apiClient={apiClient}
        autoSidebarToggle={false}
      />
    </div>
  );
}

const server = serverFromPage();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {server ? (
      <BrowserRouter>
        <App server={server} />
      </BrowserRouter>
    ) : (
      <p id="not-configured">Open this page with ?url=&lt;kurz base URL&gt;&amp;key=&lt;API key&gt;</p>
    )}
  </StrictMode>,
);
