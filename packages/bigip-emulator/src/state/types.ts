import type { ObjectRef } from './names.js';

export type { ObjectRef } from './names.js';

/** Administrative session of a member or node (what `session` may be set to). */
export type Session = 'user-enabled' | 'user-disabled';
/** Administrative state of a member or node (what `state` may be set to). */
export type AdminState = 'user-up' | 'user-down';

export interface PartitionRecord {
  name: string;
  description?: string;
  defaultRouteDomain: number;
  /** Folders below the partition (AS3 puts each application in one, e.g. `Shared`). */
  folders: string[];
  generation: number;
}

export interface PoolProps {
  loadBalancingMode: string;
  monitor?: string;
  description?: string;
  slowRampTime: number;
  reselectTries: number;
  serviceDownAction: string;
  minActiveMembers: number;
  allowNat: 'yes' | 'no';
  allowSnat: 'yes' | 'no';
}

export interface MemberProps {
  session: Session;
  state: AdminState;
  ratio: number;
  priorityGroup: number;
  connectionLimit: number;
  description?: string;
}

export interface MemberRecord extends MemberProps {
  /** `addr:port` (IPv4), `addr.port` (IPv6), `addr%RD:port`, or `nodeName:port`. */
  name: string;
  /** The partition of the member's node (and so of the member name). */
  partition: string;
  nodeName: string;
  /** The node address, with `%RD` when it has a route domain. */
  address: string;
  port: number;
  generation: number;
}

export interface PoolRecord extends ObjectRef, PoolProps {
  generation: number;
  members: MemberRecord[];
}

export interface NodeProps {
  session: Session;
  state: AdminState;
  ratio: number;
  connectionLimit: number;
  monitor?: string;
  description?: string;
}

export interface NodeRecord extends NodeProps {
  partition: string;
  name: string;
  address: string;
  generation: number;
}

export interface Destination {
  partition: string;
  /** Address with optional `%RD`. */
  address: string;
  port: number;
}

export interface VirtualProps {
  ipProtocol: 'tcp' | 'udp' | 'sctp' | 'any';
  source: string;
  mask: string;
  snat: 'none' | 'automap';
  enabled: boolean;
  description?: string;
}

export interface VirtualRecord extends ObjectRef, VirtualProps {
  generation: number;
  destination: Destination;
  /** Full path of the default pool. */
  pool?: string;
}

/** The whole LTM configuration; plain data so that `structuredClone` snapshots it. */
export interface ConfigData {
  generation: number;
  partitions: Map<string, PartitionRecord>;
  pools: Map<string, PoolRecord>;
  nodes: Map<string, NodeRecord>;
  virtuals: Map<string, VirtualRecord>;
}

/** A member as asked for in a pool create/modify or a members POST. */
export interface MemberInput extends Partial<MemberProps> {
  /** Name, possibly with a partition prefix: `/Common/10.0.0.1:80`. */
  name: string;
  partition?: string;
  address?: string;
}

export interface PoolInput extends ObjectRef, Partial<PoolProps> {
  members?: MemberInput[];
}

export interface NodeInput extends Partial<NodeProps> {
  partition: string;
  name: string;
  address?: string;
}

export interface VirtualInput extends ObjectRef, Partial<VirtualProps> {
  destination: string;
  pool?: string;
}

export interface VirtualPatch extends Partial<VirtualProps> {
  destination?: string;
  /** Empty string or `null` detaches the pool. */
  pool?: string | null;
}
