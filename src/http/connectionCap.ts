import fs from 'node:fs';
import type net from 'node:net';
import type { ProxyTrust } from './clientAddress.js';

export interface ConnectionCaps {
  /** Open connections one remote address may hold (a trusted proxy's are not counted). */
  perAddress: number;
  /** Open connections in all; null: half the process's file descriptor limit. */
  total: number | null;
  /** Trusted reverse proxies (OBIA_TRUST_PROXY): their peers are behind them, so no per-address cap applies. */
  trust: ProxyTrust | null;
}

/** The soft limit on open files of this process (/proc/self/limits); 1024, the usual default, when unreadable. */
export function openFileLimit(): number {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : 1024;
  } catch {
    return 1024;
  }
}

/**
 * Bounds the connections the server holds, per remote address and in all, before any byte of a
 * request is read. Every connection is a file descriptor, shared with the stored files, staging,
 * the database and the workers: one client opening thousands of idle sockets (HTTP keep-alive,
 * or graphql-ws sockets that never send connection_init, which graphql-ws closes only after 3 s)
 * took them all, and every request of every other user then failed to open a file (EMFILE).
 * A connection past a cap is closed at once; the total is Node's own `maxConnections`.
 * Returns how many connections each address holds now (tests).
 */
export function capConnections(server: net.Server, caps: ConnectionCaps): () => ReadonlyMap<string, number> {
  server.maxConnections = caps.total ?? Math.max(64, Math.floor(openFileLimit() / 2));
  const open = new Map<string, number>();
  server.on('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress ?? '';
    if (caps.trust?.(address, 0)) return;
    const n = open.get(address) ?? 0;
    if (n >= caps.perAddress) {
      socket.destroy();
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left); else open.delete(address);
    });
  });
  return () => open;
}
