/**
 * The data-quality sentinel's public types: what goes in (one series of bars, the first of which to score), what
 * comes out (one {@link BarAnomaly} per flagged bar). Shared by the domain scorer and the `sentinel` service. The
 * severity, anomaly-kind and detector lists are the contracts' enums, so events and the scorer cannot disagree.
 */
import { AnomalyKindSchema, DataQualitySeveritySchema, DetectorNameSchema } from '@strata/dataquality-contracts';

/** Severity ladder, lowest first. HIGH and above page (webhooks). */
export const SEVERITIES = DataQualitySeveritySchema.options;
/** One step of {@link SEVERITIES}. */
export type Severity = (typeof SEVERITIES)[number];

/**
 * What a flagged bar looks like:
 * - rule kinds (always HIGH or CRITICAL): `stale` (price unchanged over a run where it should trade), `gap` (missing
 *   sessions against the expected calendar), `bad_tick` (a print that reverts at once), `zero_volume`, `correction`
 *   (already-stored history changed);
 * - `probable_split`: an overnight jump matching a common split factor with volume moving inversely, proposed for an
 *   operator to confirm, never paged as a price anomaly;
 * - statistical kinds: `spike` (price), `volume_burst`, `outlier` (unusual bar the detectors agree on, no rule fired).
 */
export const ANOMALY_KINDS = AnomalyKindSchema.options;
/** One of {@link ANOMALY_KINDS}. */
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** The detectors whose scores are recorded per anomaly. */
export const DETECTORS = DetectorNameSchema.options;
/** One of {@link DETECTORS}. */
export type DetectorName = (typeof DETECTORS)[number];

/** One flagged bar. Scores are in [0, 1] (NaN-free); a detector that did not run (e.g. warm-up) is `null`. */
export interface BarAnomaly {
  /**
   * Index into the request's columns. It can precede `firstNew` (decided one bar later, or an early bar of a stale
   * run); −1 for a `correction`, which belongs to no scored batch.
   */
  index: number;
  /** Bar start, epoch ms UTC. */
  ts: number;
  kind: AnomalyKind;
  scores: Record<DetectorName, number | null>;
  /** The documented combination of `scores`, in [0, 1]. */
  combined: number;
  severity: Severity;
  /** The reason in words, e.g. "close 412.50 is 38.2% above the rolling median 298.40 and reverts next bar". */
  reason: string;
  /** For `probable_split`: the proposed split (new shares per old share, e.g. 4:1 → {newShares: 4, oldShares: 1}). */
  proposedSplit?: { newShares: number; oldShares: number };
}
