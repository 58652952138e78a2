export interface RequestLogEntry {
  method: string;
  /** URL path without the query string; auth token ids in the path are masked. */
  path: string;
  /** HTTP status sent, or 0 when the connection was dropped by a fault. */
  status: number;
  /** Clock time of the response, ms since the epoch. */
  at: number;
}

/** Every `/mgmt` request the emulator answered, in order, so tests can count calls. */
export class RequestLog {
  private readonly items: RequestLogEntry[] = [];

  record(entry: RequestLogEntry): void {
    this.items.push(entry);
  }

  entries(): RequestLogEntry[] {
    return [...this.items];
  }

  /** How many entries match: method exactly, path exactly or by prefix ending in `*`. */
  count(filter: { method?: string; path?: string; status?: number } = {}): number {
    return this.items.filter((e) => matches(e, filter)).length;
  }

  clear(): void {
    this.items.length = 0;
  }
}

function matches(e: RequestLogEntry, filter: { method?: string; path?: string; status?: number }): boolean {
  if (filter.method !== undefined && e.method !== filter.method.toUpperCase()) return false;
  if (filter.status !== undefined && e.status !== filter.status) return false;
  if (filter.path === undefined) return true;
  return filter.path.endsWith('*') ? e.path.startsWith(filter.path.slice(0, -1)) : e.path === filter.path;
}

/** `/mgmt/shared/authz/tokens/ABC` → `/mgmt/shared/authz/tokens/***`. */
export function maskTokenPath(path: string): string {
  return path.replace(/(\/mgmt\/shared\/authz\/tokens\/)[^/?]+/, '$1***');
}
