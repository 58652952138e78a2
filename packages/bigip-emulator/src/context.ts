import type { As3Service } from './as3/service.js';
import type { TokenStore } from './auth/tokens.js';
import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import type { RequestLog } from './request-log.js';
import type { LtmConfig } from './state/config.js';
import type { TrafficForwarder } from './traffic.js';
import type { TransactionStore } from './transactions.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Everything the HTTP routes share: the device state and the test controls. */
export interface EmulatorContext {
  clock: Clock;
  credentials: Credentials;
  config: LtmConfig;
  tokens: TokenStore;
  transactions: TransactionStore;
  as3: As3Service;
  faults: Faults;
  requestLog: RequestLog;
  traffic: TrafficForwarder;
}
