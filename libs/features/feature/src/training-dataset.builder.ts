/**
 * Training datasets for supervised signals: features at bar t, a forward-return label over `horizon` bars, and
 * chronological segments (train / validation / test, or CV folds) separated by purge and embargo so that no label
 * window and no serially correlated neighbour crosses a boundary (López de Prado, Advances in Financial Machine
 * Learning, ch. 7).
 */
import type {
  DatasetDropCounts,
  DatasetSegment,
  TrainingDataset,
  TrainingDatasetOptions,
} from '@strata/features-contracts';

/**
 * Builds a labelled dataset from one series' aligned bars and features (same `ts`, ascending; `close` adjusted).
 * Point-in-time: features at t use bars ≤ t (as stored); the label uses bars t..t+horizon, which is why rows near a
 * later segment are purged. Dead-zone rows are dropped only from the segments named in `dropDeadZoneFrom` (training);
 * the others keep them. Pure and deterministic.
 * @throws RangeError on misaligned inputs, overlapping or unsorted segments, or bad options.
 */
export function buildTrainingDataset(
  input: { ts: Float64Array; close: Float64Array; features: Record<string, Float64Array> },
  segments: readonly DatasetSegment[],
  opts: TrainingDatasetOptions,
): TrainingDataset {
  const n = input.ts.length;
  const { horizon } = opts;
  const deadZone = opts.deadZone ?? 0;
  const purge = opts.purge ?? horizon;
  const embargo = opts.embargo ?? 0;
  if (!Number.isInteger(horizon) || horizon < 1) throw new RangeError(`horizon must be an integer ≥ 1, got ${horizon}`);
  if (!(deadZone >= 0)) throw new RangeError(`deadZone must be ≥ 0, got ${deadZone}`);
  if (!Number.isInteger(purge) || purge < 0) throw new RangeError(`purge must be an integer ≥ 0, got ${purge}`);
  if (!Number.isInteger(embargo) || embargo < 0) throw new RangeError(`embargo must be an integer ≥ 0, got ${embargo}`);
  if (input.close.length !== n) throw new RangeError(`close has ${input.close.length} values, ts has ${n}`);
  const exclude = opts.excludeBars;
  if (exclude && exclude.length !== n) throw new RangeError(`excludeBars has ${exclude.length} values, ts has ${n}`);
  const names = Object.keys(input.features);
  for (const f of names)
    if (input.features[f].length !== n)
      throw new RangeError(`feature ${f} has ${input.features[f].length} values, ts has ${n}`);
  const sorted = [...segments];
  for (let i = 0; i < sorted.length; i++) {
    if (!(sorted[i].from < sorted[i].to)) throw new RangeError(`segment ${sorted[i].name}: from must be before to`);
    if (i > 0 && sorted[i].from < sorted[i - 1].to)
      throw new RangeError(`segments must be in time order without overlap (${sorted[i - 1].name}, ${sorted[i].name})`);
  }

  const dropDeadZone = sorted.map((sg) => opts.dropDeadZoneFrom?.includes(sg.name) ?? false);
  // Segment of each bar (-1: none) and the first bar index of each segment.
  const seg = new Int32Array(n).fill(-1);
  const first = new Int32Array(sorted.length).fill(-1);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const t = input.ts[i];
    while (s < sorted.length && t >= sorted[s].to) s++;
    if (s < sorted.length && t >= sorted[s].from) {
      seg[i] = s;
      if (first[s] < 0) first[s] = i;
    }
  }

  const dropped: DatasetDropCounts = {
    missingFeature: 0,
    noLabel: 0,
    deadZone: 0,
    purged: 0,
    embargoed: 0,
    outsideSegments: 0,
    ...(exclude ? { qualityFlagged: 0 } : {}),
  };
  const keep: number[][] = sorted.map(() => []);
  const y = new Float64Array(n).fill(NaN);
  const dir = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const k = seg[i];
    if (k < 0) {
      dropped.outsideSegments++;
      continue;
    }
    // Embargo: the first bars of a segment that follows another one.
    if (k > 0 && embargo > 0 && i - first[k] < embargo) {
      dropped.embargoed++;
      continue;
    }
    // Purge: the label window [i, i + purge] must end before the next segment's first bar.
    const nextFirst = k + 1 < sorted.length ? nextStart(first, k + 1) : -1;
    if (nextFirst >= 0 && i + purge >= nextFirst) {
      dropped.purged++;
      continue;
    }
    if (i + horizon >= n) {
      dropped.noLabel++;
      continue;
    }
    if (exclude && (exclude[i] === 1 || exclude[i + horizon] === 1)) {
      dropped.qualityFlagged = (dropped.qualityFlagged ?? 0) + 1;
      continue;
    }
    let missing = false;
    for (const f of names) {
      const v = input.features[f][i];
      if (v !== v) {
        missing = true;
        break;
      }
    }
    if (missing) {
      dropped.missingFeature++;
      continue;
    }
    const r = input.close[i + horizon] / input.close[i] - 1;
    const d = r > deadZone ? 1 : r < -deadZone ? -1 : 0;
    if (d === 0 && dropDeadZone[k]) {
      dropped.deadZone++;
      continue;
    }
    y[i] = r;
    dir[i] = d;
    keep[k].push(i);
  }

  const parts = sorted.map((sg, k) => {
    const idx = Int32Array.from(keep[k]);
    const X: Record<string, Float64Array> = {};
    for (const f of names) {
      const col = input.features[f];
      const out = new Float64Array(idx.length);
      for (let j = 0; j < idx.length; j++) out[j] = col[idx[j]];
      X[f] = out;
    }
    const ts = new Float64Array(idx.length);
    const yy = new Float64Array(idx.length);
    const dd = new Int8Array(idx.length);
    for (let j = 0; j < idx.length; j++) {
      ts[j] = input.ts[idx[j]];
      yy[j] = y[idx[j]];
      dd[j] = dir[idx[j]];
    }
    return { name: sg.name, index: idx, ts, X, y: yy, direction: dd };
  });
  return { parts, dropped, featureNames: names, horizon };
}

/** First bar index of segment `k` or of the next non-empty segment after it (-1 when none). */
function nextStart(first: Int32Array, k: number): number {
  for (let j = k; j < first.length; j++) if (first[j] >= 0) return first[j];
  return -1;
}
