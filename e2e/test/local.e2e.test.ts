/**
 * The e2e scenario suite on the local cluster: agents as processes from this repository's build in
 * the node namespaces, real nftables, real TCP/UDP from the outside namespace. Root only.
 */
import { LocalDriver } from '../src/local/driver.js';
import { defineSuite } from '../src/suite.js';

defineSuite(new LocalDriver({ name: 'e2elocal' }));
