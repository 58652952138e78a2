/**
 * The e2e scenario suite on kind with kube-router (as the CNI; kube-proxy stays kube-proxy): a
 * 3-node kind cluster, our images, `helm install` of charts/npl, real traffic from the host.
 * Slot 6 unless NPL_E2E_SLOT says otherwise (slot 0 is flannel's, so both can run at once).
 */
import { KindDriver } from '../src/kind/driver.js';
import { slotFromEnv } from '../src/kind/options.js';
import { defineSuite } from '../src/suite.js';

defineSuite(new KindDriver({ cni: 'kube-router', slot: slotFromEnv(6) }));
