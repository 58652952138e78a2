import { F5RestError, alreadyExists, configError, folderNotFound, notFound } from '../errors.js';
import { fullPathOf, parseAddressPort, parseIpWithRouteDomain, parseObjectPath, splitPartition, validateNodeName, validateObjectName, validatePartitionName } from './names.js';
import type { ObjectRef } from './names.js';
import type {
  ConfigData, Destination, MemberInput, MemberRecord, NodeInput, NodeProps, NodeRecord, PartitionRecord, PoolInput,
  PoolProps, PoolRecord, VirtualInput, VirtualPatch, VirtualRecord,
} from './types.js';
import { dumpConfig } from './dump.js';

export const POOL_DEFAULTS: PoolProps = {
  loadBalancingMode: 'round-robin', slowRampTime: 10, reselectTries: 0, serviceDownAction: 'none',
  minActiveMembers: 0, allowNat: 'yes', allowSnat: 'yes',
};
const NODE_DEFAULTS: NodeProps = { session: 'user-enabled', state: 'user-up', ratio: 1, connectionLimit: 0 };

/** A snapshot of the whole configuration, restorable with `LtmConfig.restore`. */
export type ConfigSnapshot = ConfigData;

function emptyData(): ConfigData {
  const common: PartitionRecord = { name: 'Common', defaultRouteDomain: 0, folders: [], generation: 1 };
  return { generation: 1, partitions: new Map([['Common', common]]), pools: new Map(), nodes: new Map(), virtuals: new Map() };
}

function memberKey(partition: string, name: string): string {
  return `${partition}/${name}`;
}

function memberLabel(pool: PoolRecord, m: { partition: string; nodeName: string; port: number }): string {
  return `${fullPathOf(pool)} /${m.partition}/${m.nodeName} ${m.port}`;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The in-memory LTM configuration: partitions, pools with members, nodes and virtual servers.
 * Every write validates as BIG-IP does and throws an `F5RestError` with the F5 code on refusal;
 * writes go through `mutate`, which restores the previous state on any throw, so nothing is ever
 * partially applied. Listeners registered with `onChange` run after each successful outermost write.
 */
export class LtmConfig {
  private data: ConfigData = emptyData();
  private depth = 0;
  private readonly listeners: Array<() => void> = [];

  get generation(): number {
    return this.data.generation;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): ConfigSnapshot {
    return structuredClone(this.data);
  }

  restore(snapshot: ConfigSnapshot): void {
    this.data = structuredClone(snapshot);
    if (this.depth === 0) this.notify();
  }

  /** Back to a fresh device: only `/Common`, no objects. */
  reset(): void {
    this.restore(emptyData());
  }

  /**
   * Runs `fn` all-or-nothing: on a throw the configuration is put back as it was and the error
   * rethrown. Only the outermost call takes a snapshot: a nested call's failure is rolled back by the
   * outermost one, which it reaches (nobody inside a mutation catches a refusal and goes on), so a
   * transaction of n commands costs O(n), not n snapshots of the whole configuration.
   */
  mutate<T>(fn: () => T): T {
    const before = this.depth === 0 ? this.snapshot() : undefined;
    this.depth += 1;
    try {
      const result = fn();
      this.depth -= 1;
      if (this.depth === 0) this.notify();
      return result;
    } catch (err) {
      this.depth -= 1;
      if (before) this.data = before;
      throw err;
    }
  }

  /** A canonical, sorted text form of the configuration for assertions. */
  dump(): string {
    return dumpConfig(this.data);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private bump(): number {
    this.data.generation += 1;
    return this.data.generation;
  }

  // ---- partitions and folders ----

  listPartitions(): PartitionRecord[] {
    return [...this.data.partitions.values()];
  }

  getPartition(name: string): PartitionRecord {
    const partition = this.data.partitions.get(name);
    if (!partition) throw notFound('folder', `/${name}`);
    return partition;
  }

  createPartition(input: { name: string; description?: string; defaultRouteDomain?: number }): PartitionRecord {
    return this.mutate(() => {
      validatePartitionName(input.name);
      if (this.data.partitions.has(input.name)) throw alreadyExists('folder', `/${input.name}`, input.name);
      const record: PartitionRecord = {
        name: input.name, defaultRouteDomain: input.defaultRouteDomain ?? 0, folders: [], generation: this.bump(),
        ...definedOnly({ description: input.description }),
      };
      this.data.partitions.set(input.name, record);
      return record;
    });
  }

  deletePartition(name: string): void {
    this.mutate(() => {
      this.getPartition(name);
      if (name === 'Common') throw configError('the partition (Common) cannot be removed.');
      if (this.partitionHasObjects(name)) {
        throw new F5RestError(400, `0107082a:3: All objects must be removed from a partition (${name}) before the partition may be removed.`);
      }
      this.data.partitions.delete(name);
      this.bump();
    });
  }

  partitionHasObjects(name: string): boolean {
    const inIt = (r: { partition: string }) => r.partition === name;
    return [...this.data.pools.values()].some(inIt) || [...this.data.nodes.values()].some(inIt) || [...this.data.virtuals.values()].some(inIt);
  }

  ensureFolder(partition: string, folder: string): void {
    this.mutate(() => {
      const record = this.getPartition(partition);
      validatePartitionName(folder);
      if (!record.folders.includes(folder)) {
        record.folders.push(folder);
        record.generation = this.bump();
      }
    });
  }

  deleteFolder(partition: string, folder: string): void {
    this.mutate(() => {
      const record = this.getPartition(partition);
      const inFolder = (r: ObjectRef) => r.partition === partition && r.subPath === folder;
      if ([...this.data.pools.values()].some(inFolder) || [...this.data.virtuals.values()].some(inFolder)) {
        throw configError(`the folder (/${partition}/${folder}) is not empty.`);
      }
      record.folders = record.folders.filter((f) => f !== folder);
      record.generation = this.bump();
    });
  }

  private requireContainer(ref: { partition: string; subPath?: string }): void {
    const partition = this.data.partitions.get(ref.partition);
    if (!partition) throw folderNotFound(`/${ref.partition}`);
    if (ref.subPath !== undefined && !partition.folders.includes(ref.subPath)) {
      throw folderNotFound(`/${ref.partition}/${ref.subPath}`);
    }
  }

  // ---- pools ----

  listPools(partition?: string): PoolRecord[] {
    return [...this.data.pools.values()].filter((p) => partition === undefined || p.partition === partition);
  }

  getPool(ref: ObjectRef): PoolRecord {
    const pool = this.data.pools.get(fullPathOf(ref));
    if (!pool) throw notFound('Pool', fullPathOf(ref));
    return pool;
  }

  createPool(input: PoolInput): PoolRecord {
    return this.mutate(() => {
      const ref: ObjectRef = input.subPath ? { partition: input.partition, subPath: input.subPath, name: input.name } : { partition: input.partition, name: input.name };
      validateObjectName('pool', ref.name);
      this.requireContainer(ref);
      const path = fullPathOf(ref);
      if (this.data.pools.has(path)) throw alreadyExists('Pool', path, ref.partition);
      const { members, ...props } = input;
      const pool: PoolRecord = { ...POOL_DEFAULTS, ...definedOnly(props), ...ref, generation: this.bump(), members: [] };
      this.data.pools.set(path, pool);
      for (const member of members ?? []) this.insertMember(pool, member);
      return pool;
    });
  }

  /** PATCH and PUT: properties given are changed; `members`, when given, replaces the whole member set. */
  modifyPool(ref: ObjectRef, patch: Partial<PoolProps> & { members?: MemberInput[] }): PoolRecord {
    return this.mutate(() => {
      const pool = this.getPool(ref);
      const { members, ...props } = patch;
      Object.assign(pool, definedOnly(props));
      if (patch.monitor === '') delete pool.monitor;
      if (members !== undefined) this.replaceMembers(pool, members);
      pool.generation = this.bump();
      return pool;
    });
  }

  deletePool(ref: ObjectRef): void {
    this.mutate(() => {
      const pool = this.getPool(ref);
      const path = fullPathOf(pool);
      const user = [...this.data.virtuals.values()].find((v) => v.pool === path);
      if (user) {
        throw new F5RestError(400, `01070265:3: The Pool (${path}) cannot be deleted because it is in use by a Virtual Server (${fullPathOf(user)}).`);
      }
      this.data.pools.delete(path);
      this.bump();
    });
  }

  // ---- members ----

  getMember(poolRef: ObjectRef, memberRef: string): MemberRecord {
    const pool = this.getPool(poolRef);
    return this.findMember(pool, memberRef);
  }

  addMember(poolRef: ObjectRef, input: MemberInput): MemberRecord {
    return this.mutate(() => this.insertMember(this.getPool(poolRef), input));
  }

  modifyMember(poolRef: ObjectRef, memberRef: string, patch: Partial<MemberRecord>): MemberRecord {
    return this.mutate(() => {
      const pool = this.getPool(poolRef);
      const member = this.findMember(pool, memberRef);
      Object.assign(member, definedOnly(patch));
      member.generation = this.bump();
      return member;
    });
  }

  /** Removes the member; its node stays, as on BIG-IP. */
  deleteMember(poolRef: ObjectRef, memberRef: string): void {
    this.mutate(() => {
      const pool = this.getPool(poolRef);
      const member = this.findMember(pool, memberRef);
      pool.members = pool.members.filter((m) => m !== member);
      pool.generation = this.bump();
    });
  }

  private findMember(pool: PoolRecord, memberRef: string): MemberRecord {
    const { partition, rest } = splitPartition(memberRef, pool.partition);
    const parsed = parseAddressPort(rest);
    const found = pool.members.find((m) => m.partition === partition && m.name === rest)
      ?? (memberRef.startsWith('/') || memberRef.startsWith('~') ? undefined : pool.members.find((m) => m.partition === 'Common' && m.name === rest));
    if (found) return found;
    const label = parsed ? `/${partition}/${parsed.host} ${parsed.port}` : `/${partition}/${rest}`;
    throw notFound('Pool Member', `${fullPathOf(pool)} ${label}`);
  }

  private replaceMembers(pool: PoolRecord, inputs: MemberInput[]): void {
    const previous = new Map(pool.members.map((m) => [memberKey(m.partition, m.name), m]));
    pool.members = [];
    for (const input of inputs) {
      const { partition, name } = this.memberIdentity(pool, input);
      const kept = previous.get(memberKey(partition, name));
      if (kept && !pool.members.includes(kept)) {
        Object.assign(kept, definedOnly({ ...input, name: undefined, partition: undefined, address: undefined }));
        pool.members.push(kept);
      } else {
        this.insertMember(pool, input);
      }
    }
  }

  private memberIdentity(pool: PoolRecord, input: MemberInput): { partition: string; name: string; explicit: boolean } {
    const explicit = input.name.startsWith('/') || input.partition !== undefined;
    const { partition, rest } = splitPartition(input.name, input.partition ?? pool.partition);
    if (!explicit && !this.data.nodes.has(`/${partition}/${this.hostOf(rest)}`) && this.data.nodes.has(`/Common/${this.hostOf(rest)}`)) {
      return { partition: 'Common', name: rest, explicit };
    }
    return { partition, name: rest, explicit };
  }

  private hostOf(memberName: string): string {
    return parseAddressPort(memberName)?.host ?? memberName;
  }

  private insertMember(pool: PoolRecord, input: MemberInput): MemberRecord {
    const { partition, name } = this.memberIdentity(pool, input);
    const parsed = parseAddressPort(name);
    if (!parsed) throw configError(`invalid pool member name (${input.name}): expected addr:port (IPv4), addr.port (IPv6) or addr%RD:port.`);
    if (pool.members.some((m) => m.partition === partition && m.name === name)) {
      throw alreadyExists('Pool Member', memberLabel(pool, { partition, nodeName: parsed.host, port: parsed.port }), pool.partition);
    }
    if (!this.data.partitions.has(partition)) throw folderNotFound(`/${partition}`);
    const node = this.nodeForMember(partition, parsed.host, parsed.isIp, input.address);
    const member: MemberRecord = {
      session: 'user-enabled', state: 'user-up', ratio: 1, priorityGroup: 0, connectionLimit: 0,
      ...definedOnly({ session: input.session, state: input.state, ratio: input.ratio, priorityGroup: input.priorityGroup, connectionLimit: input.connectionLimit, description: input.description }),
      name, partition, nodeName: node.name, address: node.address, port: parsed.port, generation: this.bump(),
    };
    pool.members.push(member);
    pool.generation = member.generation;
    return member;
  }

  private nodeForMember(partition: string, host: string, isIp: boolean, address?: string): NodeRecord {
    const existing = this.data.nodes.get(`/${partition}/${host}`);
    if (existing) {
      if (address !== undefined && address !== existing.address && address !== existing.address.split('%')[0]) {
        throw configError(`the member address (${address}) does not match the address (${existing.address}) of node /${partition}/${host}.`);
      }
      return existing;
    }
    if (isIp) {
      if (address !== undefined && address !== host && address !== host.split('%')[0]) {
        throw configError(`the member address (${address}) does not match the address in its name (${host}).`);
      }
      return this.insertNode({ partition, name: host, address: host });
    }
    if (address === undefined) throw new F5RestError(400, `01020036:3: The requested Node (/${partition}/${host}) was not found.`);
    return this.insertNode({ partition, name: host, address });
  }

  // ---- nodes ----

  listNodes(partition?: string): NodeRecord[] {
    return [...this.data.nodes.values()].filter((n) => partition === undefined || n.partition === partition);
  }

  getNode(ref: ObjectRef): NodeRecord {
    const node = this.data.nodes.get(`/${ref.partition}/${ref.name}`);
    if (!node) throw notFound('Node', `/${ref.partition}/${ref.name}`);
    return node;
  }

  createNode(input: NodeInput): NodeRecord {
    return this.mutate(() => this.insertNode(input));
  }

  modifyNode(ref: ObjectRef, patch: Partial<NodeProps>): NodeRecord {
    return this.mutate(() => {
      const node = this.getNode(ref);
      Object.assign(node, definedOnly(patch));
      node.generation = this.bump();
      return node;
    });
  }

  deleteNode(ref: ObjectRef): void {
    this.mutate(() => {
      const node = this.getNode(ref);
      const path = `/${node.partition}/${node.name}`;
      const user = this.poolsReferencingNode(node)[0];
      if (user) {
        throw new F5RestError(400, `01070110:3: Node address '${path}' is referenced by a member of pool '${fullPathOf(user)}'.`);
      }
      this.data.nodes.delete(path);
      this.bump();
    });
  }

  poolsReferencingNode(node: { partition: string; name: string }): PoolRecord[] {
    return [...this.data.pools.values()].filter((p) => p.members.some((m) => m.partition === node.partition && m.nodeName === node.name));
  }

  private insertNode(input: NodeInput): NodeRecord {
    validateNodeName(input.name);
    if (!this.data.partitions.has(input.partition)) throw folderNotFound(`/${input.partition}`);
    const path = `/${input.partition}/${input.name}`;
    if (this.data.nodes.has(path)) throw alreadyExists('Node', path, input.partition);
    if (input.address === undefined) throw configError(`the node (${path}) needs an "address".`);
    if (!parseIpWithRouteDomain(input.address)) throw configError(`invalid node address (${input.address}) for node ${path}.`);
    const clash = [...this.data.nodes.values()].find((n) => n.address === input.address);
    if (clash) throw configError(`Invalid Node, the IP address ${input.address} already exists.`);
    const { partition, name, address, ...props } = input;
    const node: NodeRecord = { ...NODE_DEFAULTS, ...definedOnly(props), partition, name, address, generation: this.bump() };
    this.data.nodes.set(path, node);
    return node;
  }

  // ---- virtual servers ----

  listVirtuals(partition?: string): VirtualRecord[] {
    return [...this.data.virtuals.values()].filter((v) => partition === undefined || v.partition === partition);
  }

  getVirtual(ref: ObjectRef): VirtualRecord {
    const virtual = this.data.virtuals.get(fullPathOf(ref));
    if (!virtual) throw notFound('Virtual Server', fullPathOf(ref));
    return virtual;
  }

  createVirtual(input: VirtualInput): VirtualRecord {
    return this.mutate(() => {
      const ref: ObjectRef = input.subPath ? { partition: input.partition, subPath: input.subPath, name: input.name } : { partition: input.partition, name: input.name };
      validateObjectName('virtual server', ref.name);
      this.requireContainer(ref);
      const path = fullPathOf(ref);
      if (this.data.virtuals.has(path)) throw alreadyExists('Virtual Server', path, ref.partition);
      const { destination, pool, ...rest } = input;
      const props = definedOnly({ ipProtocol: rest.ipProtocol, source: rest.source, mask: rest.mask, snat: rest.snat, enabled: rest.enabled, description: rest.description });
      const virtual: VirtualRecord = {
        ipProtocol: 'tcp', source: '0.0.0.0/0', mask: '255.255.255.255', snat: 'none', enabled: true, ...props, ...ref,
        generation: this.bump(), destination: this.parseDestination(destination, ref.partition, path),
      };
      if (pool !== undefined && pool !== '') virtual.pool = this.resolvePool(pool, virtual);
      this.checkDestinationFree(virtual);
      this.data.virtuals.set(path, virtual);
      return virtual;
    });
  }

  modifyVirtual(ref: ObjectRef, patch: VirtualPatch): VirtualRecord {
    return this.mutate(() => {
      const virtual = this.getVirtual(ref);
      const { destination, pool, ...props } = patch;
      Object.assign(virtual, definedOnly(props));
      if (destination !== undefined) virtual.destination = this.parseDestination(destination, virtual.partition, fullPathOf(virtual));
      if (pool === null || pool === '') delete virtual.pool;
      else if (pool !== undefined) virtual.pool = this.resolvePool(pool, virtual);
      this.checkDestinationFree(virtual);
      virtual.generation = this.bump();
      return virtual;
    });
  }

  deleteVirtual(ref: ObjectRef): void {
    this.mutate(() => {
      this.getVirtual(ref);
      this.data.virtuals.delete(fullPathOf(ref));
      this.bump();
    });
  }

  private parseDestination(text: string, defaultPartition: string, owner: string): Destination {
    const { partition, rest } = splitPartition(text, defaultPartition);
    const parsed = parseAddressPort(rest);
    if (!parsed?.isIp) throw configError(`invalid destination (${text}) for virtual server ${owner}: expected /partition/addr:port (addr.port for IPv6).`);
    if (!this.data.partitions.has(partition)) throw folderNotFound(`/${partition}`);
    return { partition, address: parsed.host, port: parsed.port };
  }

  private resolvePool(text: string, virtual: VirtualRecord): string {
    const ref = parseObjectPath(text, virtual.partition);
    const path = fullPathOf(ref);
    if (!this.data.pools.has(path)) {
      throw new F5RestError(400, `01070712:3: Values (${path}) specified for virtual server (${fullPathOf(virtual)}): foreign key index (pool) do not point at an item that exists in the database.`);
    }
    return path;
  }

  private checkDestinationFree(virtual: VirtualRecord): void {
    const path = fullPathOf(virtual);
    const clash = [...this.data.virtuals.values()].find((other) => fullPathOf(other) !== path
      && other.destination.address === virtual.destination.address && other.destination.port === virtual.destination.port
      && (other.ipProtocol === virtual.ipProtocol || other.ipProtocol === 'any' || virtual.ipProtocol === 'any'));
    if (clash) {
      throw new F5RestError(400, `01070333:3: Virtual Server ${path} illegally shares both address and port with Virtual Server ${fullPathOf(clash)}.`);
    }
  }
}
