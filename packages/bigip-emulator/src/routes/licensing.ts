import type { FastifyInstance } from 'fastify';
import { sendJson } from './http-util.js';

/** The registration key of the emulated device (a fixed, obviously fake one). */
export const REGISTRATION_KEY = 'EMULA-TORKE-YNPLX-XXXXX-XXXXXXX';

/** `GET /mgmt/tm/shared/licensing/registration`: CIS reads `registrationKey` for telemetry (spec §2.15). */
export function registerLicensingRoutes(app: FastifyInstance): void {
  app.get('/mgmt/tm/shared/licensing/registration', (_request, reply) =>
    sendJson(reply, 200, {
      kind: 'tm:shared:licensing:registration:registrationstate',
      selfLink: 'https://localhost/mgmt/tm/shared/licensing/registration?ver=17.1.0',
      registrationKey: REGISTRATION_KEY,
      licensedVersion: '17.1.0',
      platformId: 'Z100',
    }),
  );
}
