import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  type DocumentChange,
  type DocumentCollection,
  type DocumentStore,
  type NewDocument,
  type Page,
  type StoredDocument,
} from '@strata/platform-contracts';
import { type ModelStatus, type ModelVersionDto, type TrainingSpec } from '@strata/signals-contracts';

/** The claim a training worker holds on a running model version (`leaseUntil` ISO-8601 UTC; void after it). */
export interface TrainingClaim {
  token: string;
  workerId: string;
  claimedAt: string;
  leaseUntil: string;
}

/**
 * A model version document (collection `signal_models`, id = model id). Immutable once `completed` except for
 * `finalEventPublished`; aliases live in `signal_aliases`.
 */
export interface SignalModelDoc {
  name: string;
  description: string;
  status: ModelStatus;
  source: 'trained' | 'imported';
  objective: 'binary' | 'regression';
  featureSet: { name: string; version: number; featureNames: string[] };
  /** Frozen training spec (trained models). */
  spec: TrainingSpec | null;
  /** GBDT parameters as trained (with `objective`), or the importer's description of an external model. */
  params: Record<string, unknown> | null;
  metrics: ModelVersionDto['metrics'];
  importance: ModelVersionDto['importance'];
  artifact: ModelVersionDto['artifact'];
  lineage: ModelVersionDto['lineage'];
  progress: { phase: string; fraction: number } | null;
  error: { reason: string; detail: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  claim: TrainingClaim | null;
  /** The trained / failed event went out (a redelivery republishes it otherwise). */
  finalEventPublished: boolean;
}

/** A fresh queued model version for a training spec. */
export function queuedModel(
  id: string,
  spec: TrainingSpec,
  featureNames: string[],
  createdAt: string,
): NewDocument<SignalModelDoc> {
  return {
    id,
    name: spec.name,
    description: spec.description,
    status: 'queued',
    source: 'trained',
    objective: spec.objective,
    featureSet: { name: spec.featureSet.name, version: spec.featureSet.version, featureNames },
    spec,
    params: { objective: spec.objective, ...spec.params },
    metrics: null,
    importance: null,
    artifact: null,
    lineage: null,
    progress: null,
    error: null,
    createdAt,
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    claim: null,
    finalEventPublished: false,
  };
}

/**
 * Model versions in the document store (MongoDB in production, embedded DuckDB by default). Every state change is a
 * compare-and-set on `_version`, which makes training claims exclusive and completion happen once.
 */
@Injectable()
export class SignalModelsRepository {
  readonly models: DocumentCollection<SignalModelDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore) {
    this.models = store.collection<SignalModelDoc>({
      name: 'signal_models',
      indexes: [{ fields: ['status'] }, { fields: ['createdAt'] }, { fields: ['name'] }],
    });
  }

  insert(doc: NewDocument<SignalModelDoc>): Promise<StoredDocument<SignalModelDoc>> {
    return this.models.insert(doc);
  }

  get(id: string): Promise<StoredDocument<SignalModelDoc> | null> {
    return this.models.get(id);
  }

  /** Compare-and-set (VersionConflictError when the stored version is not `expectedVersion`). */
  update(
    id: string,
    expectedVersion: number,
    change: DocumentChange<SignalModelDoc>,
  ): Promise<StoredDocument<SignalModelDoc>> {
    return this.models.update(id, expectedVersion, change);
  }

  /** Model versions newest first, optionally of one status. */
  page(req: { limit: number; cursor?: string | null; status?: ModelStatus }): Promise<Page<SignalModelDoc>> {
    return this.models.page({
      filter: req.status ? { status: req.status } : {},
      sort: { field: 'createdAt', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
  }

  /** Oldest first in a status (recovery sweeps). */
  stale(status: ModelStatus, limit: number): Promise<Page<SignalModelDoc>> {
    return this.models.page({ filter: { status }, sort: { field: 'createdAt', direction: 'asc' }, limit });
  }
}
