/**
 * Arguments of `npl-controller render`. Pure.
 */
import { parseArgs } from 'node:util';
import type { BackendKind } from './backend/types.js';
import { ControllerError } from './errors.js';
import { objectNameProblem } from './names.js';
import type { RenderOptions } from './render.js';

export const RENDER_HELP = `Usage: npl-controller render -f FILE [-f FILE...] [--backend icontrol|as3] [--bigip-partition P] [--namespace NS]

Reads Services, Pods and EndpointSlices (YAML or JSON, several documents or Lists per file; - for
stdin) and prints the BIG-IP state the controller would make: pools and members (icontrol), or the
AS3 declaration (as3). Contacts nothing.
`;

export type RenderArgs = { readonly help: true } | { readonly help: false; readonly files: string[]; readonly options: RenderOptions };

function backendOf(text: string): BackendKind {
  if (text !== 'icontrol' && text !== 'as3') throw new ControllerError('CTL_CONFIG_INVALID', `render: --backend ${JSON.stringify(text)}: expected icontrol or as3`);
  return text;
}

function partitionOf(text: string): string {
  const problem = objectNameProblem(text);
  if (problem) throw new ControllerError('CTL_CONFIG_INVALID', `render: --bigip-partition ${JSON.stringify(text)}: ${problem}`);
  return text;
}

export function parseRenderArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): RenderArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv], strict: true,
      options: { file: { type: 'string', short: 'f', multiple: true }, backend: { type: 'string' }, 'bigip-partition': { type: 'string' }, namespace: { type: 'string', multiple: true }, help: { type: 'boolean' } },
    }).values;
  } catch (err) {
    throw new ControllerError('CTL_CONFIG_INVALID', `render: ${(err as Error).message}; see render --help`);
  }
  if (values.help === true) return { help: true };
  const files = (values.file as string[] | undefined) ?? [];
  if (files.length === 0) throw new ControllerError('CTL_CONFIG_INVALID', 'render: at least one -f FILE is required');
  const backend = backendOf((values.backend as string | undefined) ?? env.NPL_CONTROLLER_BACKEND ?? 'icontrol');
  const partition = partitionOf((values['bigip-partition'] as string | undefined) ?? env.BIGIP_PARTITION ?? 'k8s');
  const namespaces = ((values.namespace as string[] | undefined) ?? []).flatMap((n) => n.split(',')).filter((n) => n !== '');
  return { help: false, files, options: { backend, partition, ...(namespaces.length ? { namespaces } : {}) } };
}
