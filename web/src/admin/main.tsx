// main.tsx - the admin dashboard's entry (served at /admin/).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import '../shared/styles.css';
import { AdminApp } from './AdminApp';

const client = new QueryClient({ defaultOptions: { queries: { staleTime: 5_000, retry: 1 } } });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <AdminApp />
    </QueryClientProvider>
  </StrictMode>,
);
