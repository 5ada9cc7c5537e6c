import { type ModelAlias, type ModelVersionDto } from '@strata/signals-contracts';
import { type StoredDocument } from '@strata/platform-contracts';
import type { SignalModelDoc } from './signal-models.repository';

/** URL of a model version's status (`GET /signals/models/{id}`). */
export const modelStatusUrl = (id: string): string => `/signals/models/${encodeURIComponent(id)}`;

/** The REST view of a model version document, with the aliases it holds. */
export function toModelDto(d: StoredDocument<SignalModelDoc>, aliases: ModelAlias[] = []): ModelVersionDto {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    status: d.status,
    source: d.source,
    objective: d.objective,
    aliases,
    featureSet: d.featureSet,
    spec: d.spec,
    params: d.params,
    metrics: d.metrics,
    importance: d.importance,
    artifact: d.artifact,
    lineage: d.lineage,
    progress: d.progress,
    error: d.error,
    createdAt: d.createdAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    attempts: d.attempts,
    statusUrl: modelStatusUrl(d.id),
  };
}
