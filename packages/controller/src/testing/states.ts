/**
 * Desired states for backend and engine tests.
 */
import type { DesiredPool, DesiredState } from '../model.js';

export type MemberSpec = [address: string, port: number, enabled?: boolean];

export function desiredPool(name: string, members: MemberSpec[], extra: Partial<DesiredPool> = {}): DesiredPool {
  return {
    name, service: { namespace: 'prod', name }, servicePort: 80, protocol: 'tcp', families: ['IPv4', 'IPv6'],
    members: members.map(([address, port, enabled]) => ({ address, port, enabled: enabled ?? true })), ...extra,
  };
}

export function desiredState(...pools: DesiredPool[]): DesiredState {
  return { partition: 'k8s', pools: [...pools].sort((a, b) => (a.name < b.name ? -1 : 1)), ignored: [] };
}
