/**
 * BIG-IP object names as CIS forms them (spec §2.6), so pools keep their names when a user moves
 * from CIS to this controller.
 */

/** CIS's AS3NameFormatter: the character rules applied to every generated name. */
export function as3Name(raw: string): string {
  return raw
    .replace(/\*_/g, '')
    .replace(/[.:/=+-]/g, '_')
    .replace(/%/g, '.')
    .replace(/[[\]]/g, '');
}

/** `<svc>_<port>_<ns>` through the character rules: `my-app` port 8080 in `prod` is `my_app_8080_prod`. */
export function poolName(namespace: string, service: string, port: number): string {
  return as3Name(`${service}_${port}_${namespace}`);
}

/** A virtual server using `pool`: CIS names virtuals `crd_<address>_<port>`. */
export function virtualName(address: string, port: number): string {
  return as3Name(`crd_${address}_${port}`);
}

/** AS3 object names (and our iControl names) must match this (spec §2.6). */
export const OBJECT_NAME = /^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$/;

/** Why `name` cannot be a BIG-IP object name, or undefined when it can. */
export function objectNameProblem(name: string): string | undefined {
  return OBJECT_NAME.test(name)
    ? undefined
    : 'expected a letter followed by up to 189 letters, digits, "_", "." or "-", not ending in "-"';
}
