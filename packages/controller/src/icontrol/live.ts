/**
 * What the BIG-IP partition really holds, as the iControl backend reads it (pools with members
 * expanded, virtuals, nodes). Only the fields the plan compares.
 */

/** `description` marking objects this controller created and may delete. */
export const OWNER_MARK = 'managed by npl-controller';

export interface LiveMember {
  /** BIG-IP member name as read (`addr:port`, `addr.port`). */
  readonly name: string;
  readonly partition: string;
  readonly address: string;
  readonly port: number;
  readonly enabled: boolean;
}

export interface LivePool {
  readonly name: string;
  readonly owned: boolean;
  /** Monitor rule trimmed, `''` for none. */
  readonly monitor: string;
  readonly loadBalancingMode: string;
  readonly members: readonly LiveMember[];
}

export interface LiveVirtual {
  readonly name: string;
  readonly owned: boolean;
  readonly address: string;
  readonly port: number;
  /** Full path of the pool, `''` for none. */
  readonly pool: string;
  readonly protocol: string;
}

export interface LiveNode {
  readonly name: string;
  readonly partition: string;
  readonly address: string;
  readonly owned: boolean;
}

export interface LiveState {
  readonly partition: string;
  readonly pools: readonly LivePool[];
  readonly virtuals: readonly LiveVirtual[];
  /** Nodes of every partition (an address can exist once per device). */
  readonly nodes: readonly LiveNode[];
}
