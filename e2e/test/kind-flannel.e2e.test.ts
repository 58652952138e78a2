/**
 * The e2e scenario suite on kind with flannel: a 3-node kind cluster, our images, `helm install`
 * of charts/npl, real traffic from the host (outside the cluster) to nodeIP:nodePort.
 * Slot 0 unless NPL_E2E_SLOT says otherwise.
 */
import { KindDriver } from '../src/kind/driver.js';
import { slotFromEnv } from '../src/kind/options.js';
import { defineSuite } from '../src/suite.js';

defineSuite(new KindDriver({ cni: 'flannel', slot: slotFromEnv(0) }));
