/**
 * The body of npl-agent's `GET /mappings`, schema version 1 (packages/agent/README.md,
 * "Inspection"), as nplctl reads it: a wire format, declared here rather than imported so that
 * nplctl depends on the agent's documented JSON only, not on its code. Pure.
 */

export const AGENT_SCHEMA_VERSION = 1;

export type RuleState = 'present' | 'missing' | 'pending' | 'unknown';

export interface AgentMapping {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string | null };
  readonly podIP: string;
  readonly podPort: number;
  readonly protocol: string;
  readonly family: string;
  readonly nodeIP: string | null;
  readonly nodePort: number;
  readonly rule: RuleState;
  readonly socketHeld: boolean | null;
  readonly annotation: string;
  readonly defunct: boolean;
}

export interface AgentReport {
  readonly schemaVersion: number;
  readonly node: string;
  readonly synced: boolean;
  readonly dataplanes: readonly { readonly family: string; readonly read: string; readonly error?: string }[];
  readonly mappings: readonly AgentMapping[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function mappingProblem(m: unknown, i: number): string | undefined {
  if (!isObject(m) || !isObject(m['pod'])) return `mappings[${i}] is not an object with a pod`;
  for (const f of ['podPort', 'nodePort'] as const) if (typeof m[f] !== 'number') return `mappings[${i}].${f} is not a number`;
  for (const f of ['protocol', 'family', 'rule'] as const) if (typeof m[f] !== 'string') return `mappings[${i}].${f} is not a string`;
  return undefined;
}

/**
 * Checks the shape nplctl relies on and returns the report. Throws an Error saying what is wrong
 * (another schema version: upgrade nplctl or the agent; not an object; a field of the wrong type).
 */
export function readAgentReport(body: unknown): AgentReport {
  if (!isObject(body)) throw new Error('the answer is not a JSON object');
  if (body['schemaVersion'] !== AGENT_SCHEMA_VERSION) {
    throw new Error(`schemaVersion ${JSON.stringify(body['schemaVersion'])} is not ${AGENT_SCHEMA_VERSION}: use an nplctl of the agent's version`);
  }
  const mappings = body['mappings'];
  if (!Array.isArray(mappings)) throw new Error('mappings is not an array');
  const problem = mappings.map(mappingProblem).find((p) => p !== undefined);
  if (problem) throw new Error(problem);
  if (!Array.isArray(body['dataplanes'])) throw new Error('dataplanes is not an array');
  return body as unknown as AgentReport;
}
