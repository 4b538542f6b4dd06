import { createContext, useContext } from 'react';
import type { Session } from './api/types';

export interface SessionContextValue {
  session: Session;
  isAdmin: boolean;
  logout: () => Promise<void>;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a session');
  return value;
}
