/**
 * IP families a mapping is needed for (Antrea's `ipFamilies` bitmask) and the families a Service
 * asks for.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { IPFamily } from './types.js';

const BIT: Readonly<Record<IPFamily, number>> = { IPv4: 1, IPv6: 2 };

/**
 * Immutable set of IP families. Iteration and `values()` always yield IPv4 before IPv6, the order
 * Antrea creates per-family mappings and annotation entries in.
 */
export class IPFamilySet implements Iterable<IPFamily> {
  static readonly EMPTY = new IPFamilySet(0);

  private constructor(private readonly bits: number) {
    Object.freeze(this);
  }

  /** The set of the given families; duplicates are ignored. */
  static of(...families: readonly IPFamily[]): IPFamilySet {
    return families.reduce((set, family) => set.add(family), IPFamilySet.EMPTY);
  }

  add(family: IPFamily): IPFamilySet {
    return new IPFamilySet(this.bits | BIT[family]);
  }

  union(other: IPFamilySet): IPFamilySet {
    return new IPFamilySet(this.bits | other.bits);
  }

  has(family: IPFamily): boolean {
    return (this.bits & BIT[family]) !== 0;
  }

  equals(other: IPFamilySet): boolean {
    return this.bits === other.bits;
  }

  get size(): number {
    return this.values().length;
  }

  get isEmpty(): boolean {
    return this.bits === 0;
  }

  /** Members, IPv4 first. */
  values(): IPFamily[] {
    const families: IPFamily[] = [];
    if (this.has('IPv4')) families.push('IPv4');
    if (this.has('IPv6')) families.push('IPv6');
    return families;
  }

  [Symbol.iterator](): Iterator<IPFamily> {
    return this.values()[Symbol.iterator]();
  }

  toString(): string {
    return `{${this.values().join(',')}}`;
  }
}

/** `spec.ipFamilies` exactly as the object holds it (Antrea's getServiceIPFamilies); [] when absent. */
export function serviceIPFamilies(svc: V1Service): readonly string[] {
  return svc.spec?.ipFamilies ?? [];
}

/**
 * The families a Service needs mappings for. Values other than `IPv4`/`IPv6` are ignored (the API
 * server allows no others; Antrea would count any such value as IPv6). Empty when `spec.ipFamilies`
 * is absent or empty.
 */
export function serviceIPFamilySet(svc: V1Service): IPFamilySet {
  return serviceIPFamilies(svc).reduce(
    (set, family) => (family === 'IPv4' || family === 'IPv6' ? set.add(family) : set),
    IPFamilySet.EMPTY,
  );
}
