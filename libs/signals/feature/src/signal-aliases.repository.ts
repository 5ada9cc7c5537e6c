import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  DuplicateKeyError,
  type DocumentCollection,
  type DocumentStore,
  type StoredDocument,
} from '@strata/platform-contracts';
import { type ModelAlias } from '@strata/signals-contracts';

/** One change of an alias. */
export interface AliasChange {
  /** 1, 2, … per alias. */
  revision: number;
  action: 'promote' | 'rollback';
  modelId: string | null;
  previousModelId: string | null;
  at: string;
}

/**
 * An alias document (collection `signal_aliases`, id = alias name): the model it points at, the stack of previous
 * holders (a promote pushes the current holder, a rollback pops it back) and the full history of changes.
 */
export interface SignalAliasDoc {
  alias: ModelAlias;
  modelId: string | null;
  previous: string[];
  history: AliasChange[];
  updatedAt: string;
}

/** Nothing to roll back to: the alias has no previous holder. */
export class NothingToRollBackError extends Error {
  constructor(readonly alias: ModelAlias) {
    super(`alias ${alias} has no previous model to roll back to`);
    this.name = 'NothingToRollBackError';
  }
}

/**
 * Aliases (`champion`, `challenger`) in the document store. Promote and rollback are read-modify-write with
 * optimistic retry, so concurrent changes never lose one another; every change is recorded in `history`.
 */
@Injectable()
export class SignalAliasesRepository {
  readonly aliases: DocumentCollection<SignalAliasDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore) {
    this.aliases = store.collection<SignalAliasDoc>({ name: 'signal_aliases' });
  }

  get(alias: ModelAlias): Promise<StoredDocument<SignalAliasDoc> | null> {
    return this.aliases.get(alias);
  }

  /** Points `alias` at `modelId` (pushing the current holder, if another model, on the rollback stack). */
  async promote(
    alias: ModelAlias,
    modelId: string,
    now = new Date(),
  ): Promise<{ doc: StoredDocument<SignalAliasDoc>; change: AliasChange }> {
    await this.ensure(alias, now);
    let change: AliasChange | undefined;
    const doc = await this.aliases.updateWithRetry(alias, (cur) => {
      change = {
        revision: cur.history.length + 1,
        action: 'promote',
        modelId,
        previousModelId: cur.modelId,
        at: now.toISOString(),
      };
      const previous = cur.modelId !== null && cur.modelId !== modelId ? [...cur.previous, cur.modelId] : cur.previous;
      return { set: { modelId, previous, history: [...cur.history, change], updatedAt: change.at } };
    });
    return { doc, change: change! };
  }

  /** Restores the previous holder of `alias`. @throws NothingToRollBackError when there is none. */
  async rollback(
    alias: ModelAlias,
    now = new Date(),
  ): Promise<{ doc: StoredDocument<SignalAliasDoc>; change: AliasChange }> {
    const cur0 = await this.aliases.get(alias);
    if (!cur0 || cur0.previous.length === 0) throw new NothingToRollBackError(alias);
    let change: AliasChange | undefined;
    const doc = await this.aliases.updateWithRetry(alias, (cur) => {
      if (cur.previous.length === 0) throw new NothingToRollBackError(alias);
      const back = cur.previous[cur.previous.length - 1];
      change = {
        revision: cur.history.length + 1,
        action: 'rollback',
        modelId: back,
        previousModelId: cur.modelId,
        at: now.toISOString(),
      };
      return {
        set: {
          modelId: back,
          previous: cur.previous.slice(0, -1),
          history: [...cur.history, change],
          updatedAt: change.at,
        },
      };
    });
    return { doc, change: change! };
  }

  private async ensure(alias: ModelAlias, now: Date): Promise<void> {
    if (await this.aliases.get(alias)) return;
    await this.aliases
      .insert({ id: alias, alias, modelId: null, previous: [], history: [], updatedAt: now.toISOString() })
      .catch((e: unknown) => {
        if (!(e instanceof DuplicateKeyError)) throw e;
      });
  }
}
