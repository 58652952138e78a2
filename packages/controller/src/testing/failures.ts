/**
 * How a BIG-IP call ended, as one word for assertions: `resolved`, the error class of a BIG-IP error
 * (`busy`, `conflict`, ...), or the text of any other error.
 */
import { isBigipError } from '../bigip/classify.js';

export async function failureClass(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isBigipError(err) ? err.errorClass : String(err);
  }
}
