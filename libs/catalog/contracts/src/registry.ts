import {
  BacktestRunCompletedV1,
  BacktestRunFailedV1,
  BacktestRunProgressedV1,
  ForecastFinishedV1,
  ForecastKpiBandsCommandV1,
  ForecastProgressedV1,
  RunBacktestCommandV1,
} from '@strata/backtests-contracts';
import { AnomalyDetectedV1 } from '@strata/dataquality-contracts';
import type { MessageDefinition } from '@strata/platform-contracts';
import { FeatureSetRefreshedV1 } from '@strata/features-contracts';
import {
  BarsCorrectedV1,
  CorporateActionsRecordedV1,
  BarsIngestedV1,
  IngestCommandV1,
  ReadBarsCommandV1,
  ReadCorrectionsCommandV1,
  ReadFeatureSetsCommandV1,
  ReadFeaturesCommandV1,
  ReadQualityFlagsCommandV1,
  ReadSeriesCommandV1,
  ReadSnapshotCommandV1,
  SetQualityFlagStatusCommandV1,
  SnapshotPublishedV1,
  UpsertQualityFlagsCommandV1,
} from '@strata/marketdata-contracts';
import { ReadRegimeHistoryCommandV1, RefitRegimeCommandV1, RegimeStateChangedV1 } from '@strata/regime-contracts';
import {
  ModelAliasChangedV1,
  ModelTrainedV1,
  ModelTrainingFailedV1,
  ScoreComputedV1,
  TrainModelCommandV1,
} from '@strata/signals-contracts';

/** Every message definition of the platform; the AsyncAPI document and the transports are built from this list. */
export const ALL_MESSAGES: readonly MessageDefinition[] = [
  IngestCommandV1,
  BarsIngestedV1,
  BarsCorrectedV1,
  CorporateActionsRecordedV1,
  ReadBarsCommandV1,
  ReadCorrectionsCommandV1,
  ReadFeaturesCommandV1,
  ReadFeatureSetsCommandV1,
  ReadQualityFlagsCommandV1,
  ReadSeriesCommandV1,
  ReadSnapshotCommandV1,
  SnapshotPublishedV1,
  UpsertQualityFlagsCommandV1,
  SetQualityFlagStatusCommandV1,
  FeatureSetRefreshedV1,
  RunBacktestCommandV1,
  BacktestRunProgressedV1,
  BacktestRunCompletedV1,
  BacktestRunFailedV1,
  ForecastKpiBandsCommandV1,
  ForecastProgressedV1,
  ForecastFinishedV1,
  AnomalyDetectedV1,
  TrainModelCommandV1,
  ModelTrainedV1,
  ModelTrainingFailedV1,
  ModelAliasChangedV1,
  ScoreComputedV1,
  RegimeStateChangedV1,
  RefitRegimeCommandV1,
  ReadRegimeHistoryCommandV1,
] as readonly MessageDefinition[];

/** Looks up a definition by subject. */
export function messageBySubject(subject: string): MessageDefinition | undefined {
  return ALL_MESSAGES.find((m) => m.subject === subject);
}

/** Domains that own a stream (one JetStream stream per domain). */
export function streamDomains(): string[] {
  return [...new Set(ALL_MESSAGES.map((m) => m.domain))].sort();
}
