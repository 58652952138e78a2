import type { Clock } from './clock.js';
import { F5RestError } from './errors.js';
import type { LtmConfig } from './state/config.js';
import { selfLink } from './state/render.js';
import type { TmRequest } from './routes/tm-types.js';

export const DEFAULT_TRANSACTION_TIMEOUT_S = 120;

export type TransactionState = 'STARTED' | 'VALIDATING' | 'COMPLETED' | 'FAILED';

export interface QueuedCommand {
  commandId: number;
  evalOrder: number;
  request: TmRequest;
}

export interface TransactionRecord {
  transId: number;
  state: TransactionState;
  timeoutSeconds: number;
  validateOnly: boolean;
  failureReason: string;
  createdMs: number;
  executionTimeMs: number;
  commands: QueuedCommand[];
  nextCommandId: number;
}

export function transactionNotFound(id: string | number): F5RestError {
  return new F5RestError(404, `Transaction with ID ${id} not found.`, { apiError: 1 });
}

/**
 * iControl REST transactions: writes sent with `X-F5-REST-Coordination-Id` are queued, then a
 * commit applies them in order all-or-nothing (one `LtmConfig.mutate`). A transaction not committed
 * within `timeoutSeconds` of its creation vanishes.
 */
export class TransactionStore {
  private readonly items = new Map<number, TransactionRecord>();
  private lastId: number;

  constructor(private readonly clock: Clock) {
    this.lastId = Math.floor(clock.now() / 1000);
  }

  create(timeoutSeconds = DEFAULT_TRANSACTION_TIMEOUT_S): TransactionRecord {
    this.lastId = Math.max(this.lastId + 1, Math.floor(this.clock.now() / 1000));
    const record: TransactionRecord = {
      transId: this.lastId, state: 'STARTED', timeoutSeconds, validateOnly: false, failureReason: '',
      createdMs: this.clock.now(), executionTimeMs: 0, commands: [], nextCommandId: 1,
    };
    this.items.set(record.transId, record);
    return record;
  }

  list(): TransactionRecord[] {
    return [...this.items.keys()].map((id) => this.find(id)).filter((t): t is TransactionRecord => t !== undefined);
  }

  /** The transaction, or undefined if unknown or expired uncommitted (then forgotten). */
  find(id: number): TransactionRecord | undefined {
    const record = this.items.get(id);
    if (!record) return undefined;
    if (record.state === 'STARTED' && this.clock.now() >= record.createdMs + record.timeoutSeconds * 1000) {
      this.items.delete(id);
      return undefined;
    }
    return record;
  }

  get(id: string): TransactionRecord {
    const record = /^\d+$/.test(id) ? this.find(Number(id)) : undefined;
    if (!record) throw transactionNotFound(id);
    return record;
  }

  enqueue(id: string, request: TmRequest): QueuedCommand {
    const record = this.get(id);
    if (record.state !== 'STARTED') throw new F5RestError(400, `Transaction ${id} is ${record.state} and accepts no more commands.`);
    const command: QueuedCommand = { commandId: record.nextCommandId, evalOrder: record.commands.length + 1, request };
    record.nextCommandId += 1;
    record.commands.push(command);
    return command;
  }

  removeCommand(id: string, commandId: string): void {
    const record = this.get(id);
    const before = record.commands.length;
    record.commands = record.commands.filter((c) => String(c.commandId) !== commandId);
    if (record.commands.length === before) throw new F5RestError(404, `Command ${commandId} not found in transaction ${id}.`, { apiError: 1 });
    record.commands.forEach((c, i) => { c.evalOrder = i + 1; });
  }

  delete(id: string): void {
    this.get(id);
    this.items.delete(Number(id));
  }

  /**
   * Runs the queued commands in order inside one configuration mutation. On the first refusal the
   * configuration is rolled back, the transaction is FAILED with `failureReason` and the error rethrown.
   * With `validateOnly` the changes are always rolled back.
   */
  commit(id: string, config: LtmConfig, execute: (req: TmRequest) => void, validateOnly: boolean): TransactionRecord {
    const record = this.get(id);
    if (record.state !== 'STARTED') throw new F5RestError(400, `Transaction ${id} has already been committed (state ${record.state}).`);
    record.state = 'VALIDATING';
    record.validateOnly = validateOnly;
    const started = this.clock.now();
    const before = config.snapshot();
    try {
      config.mutate(() => {
        for (const command of record.commands) execute(command.request);
      });
      if (validateOnly) config.restore(before);
      record.state = 'COMPLETED';
    } catch (err) {
      record.state = 'FAILED';
      record.failureReason = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      record.executionTimeMs = this.clock.now() - started;
    }
    return record;
  }

  clear(): void {
    this.items.clear();
  }

  render(record: TransactionRecord): Record<string, unknown> {
    return {
      transId: record.transId,
      state: record.state,
      timeoutSeconds: record.timeoutSeconds,
      asyncExecution: false,
      validateOnly: record.validateOnly,
      executionTimeout: 300,
      executionTime: Math.round(record.executionTimeMs / 1000),
      failureReason: record.failureReason,
      kind: 'tm:transactionstate',
      selfLink: selfLink(`/mgmt/tm/transaction/${record.transId}`),
    };
  }

  renderCommand(record: TransactionRecord, command: QueuedCommand): Record<string, unknown> {
    const uri = `https://localhost/mgmt/tm/${command.request.segments.join('/')}`;
    return {
      method: command.request.method,
      uri,
      ...(command.request.body !== undefined ? { body: command.request.body } : {}),
      evalOrder: command.evalOrder,
      commandId: command.commandId,
      transId: record.transId,
      kind: 'tm:transaction:commandsstate',
      selfLink: selfLink(`/mgmt/tm/transaction/${record.transId}/commands/${command.commandId}`),
    };
  }
}
