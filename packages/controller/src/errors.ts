/**
 * The controller's coded errors. A code is never reused; the test enumerates them.
 */
import { CodedError, codedErrorGuard } from '@npl/core/coded-error';

export const CONTROLLER_ERROR_CODES = {
  CTL_CONFIG_INVALID: 'A flag, variable or credentials file has an invalid value',
  CTL_SERVICE_ANNOTATION_INVALID: "A Service's BIG-IP annotation has an invalid value",
  CTL_BIGIP_REQUEST_FAILED: 'A BIG-IP request failed (see the class)',
  CTL_BIGIP_RESPONSE_INVALID: 'BIG-IP answered with a body the controller cannot read',
  CTL_AS3_DECLARATION_REJECTED: 'AS3 rejected a declaration (422); it is not sent again unchanged',
  CTL_AS3_TASK_FAILED: 'An asynchronous AS3 task ended with a failed tenant',
  CTL_RENDER_INPUT_INVALID: 'A file given to `render` is not a Kubernetes object list the controller can read',
} as const;

export type ControllerErrorCode = keyof typeof CONTROLLER_ERROR_CODES;

export class ControllerError extends CodedError<ControllerErrorCode> {
  override readonly name = 'ControllerError';
}

export const isControllerError = codedErrorGuard(ControllerError);
