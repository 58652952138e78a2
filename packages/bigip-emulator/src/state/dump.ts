import { formatAddressPort, fullPathOf } from './names.js';
import type { ConfigData } from './types.js';

/** Canonical text of a configuration: one sorted line per object, members indented under their pool. */
export function dumpConfig(data: ConfigData): string {
  const lines: string[] = [];
  for (const p of [...data.partitions.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`partition /${p.name}${p.folders.length ? ` folders=${[...p.folders].sort().join(',')}` : ''}`);
  }
  for (const pool of [...data.pools.values()].sort((a, b) => fullPathOf(a).localeCompare(fullPathOf(b)))) {
    lines.push(`pool ${fullPathOf(pool)} lb=${pool.loadBalancingMode}${pool.monitor ? ` monitor=${pool.monitor}` : ''}`);
    for (const m of pool.members) lines.push(`  member /${m.partition}/${m.name} ${m.session} ${m.state}`);
  }
  for (const n of [...data.nodes.values()].sort((a, b) => `${a.partition}/${a.name}`.localeCompare(`${b.partition}/${b.name}`))) {
    lines.push(`node /${n.partition}/${n.name} address=${n.address} ${n.session} ${n.state}`);
  }
  for (const v of [...data.virtuals.values()].sort((a, b) => fullPathOf(a).localeCompare(fullPathOf(b)))) {
    const d = v.destination;
    lines.push(`virtual ${fullPathOf(v)} destination=/${d.partition}/${formatAddressPort(d.address, d.port)} ${v.ipProtocol}${v.pool ? ` pool=${v.pool}` : ''}${v.enabled ? '' : ' disabled'}`);
  }
  return lines.join('\n');
}
