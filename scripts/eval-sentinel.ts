/**
 * `npm run eval:sentinel`: how the data-quality sentinel's detection depends on the size of an anomaly, what it
 * alerts on clean bars, and what it finds among hand-labelled bad prints of the bundled real data. Prints ONE JSON
 * line on stdout (progress on stderr; `--list` also prints every real-data alert on stderr).
 *
 * Synthetic part. The generator (`generateSyntheticSeries`) injects each kind over a range of sizes that runs from
 * well below the detector's rule thresholds to far above them, so the evaluation can miss:
 * - spikes of 2–16 per-bar σ (rule: 5.5σ), bad ticks ×1.5 to ×10 and their inverses (rule: ×2), stale runs of 2–10 bars
 *   (rule: 3), gaps of 1–3 missing bars, volume bursts ×2 to ×50.
 * Sizes come in three levels (small, medium, large), one generation per level, scenario and seed, so that small sizes
 * get as many events as large ones. For each kind the line gives recall per size bucket (a detection curve): the share
 * of injected events with a finding OF THAT KIND at HIGH or above on one of the event's bars (`recall_any_kind`: any
 * kind). Bad ticks also give recall over the rows that pass ingestion (`valid_rows`): a row whose corrupted field breaks
 * OHLC consistency is rejected with its line before the sentinel sees it.
 * False alerts: findings at HIGH or above on bars the generator left clean, per 10,000 clean bars.
 * Protocol: the sentinel's constants were tuned on the TUNE seeds; the figures are from the TEST seeds (disjoint) unless
 * `--seeds=tune` is passed.
 *
 * Real part. data/eval/sample-bad-prints.json labels bars of the bundled sample (data/sample) by hand, with the
 * evidence for each label; the labels were made without looking at the sentinel's output and are never used to tune
 * it. Reported: recall of `bad_print` and `data_gap` labels (a finding at HIGH+ of any kind on the bar), findings on
 * bars labelled `genuine` (real market events and splits: false alerts; a split's right finding, a MEDIUM
 * `probable_split`, is listed as `probable_splits`), the findings on `uncertain` bars (counted
 * neither way), and HIGH+ findings on unlabelled bars per 10,000 bars (not all false: the labels are not exhaustive).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { type Timeframe } from '@strata/marketdata-contracts';
import {
  parseBarsCsv,
  ANOMALY_KINDS,
  generateSyntheticSeries,
  type AnomalyEvent,
  type AnomalyKind,
  type AnomalySpec,
} from '@strata/marketdata-domain';
import { type TradingCalendar } from '@strata/shared-timeseries';
import { scoreBars, sentinelConfigFromJson, severityAtLeast, type BarAnomaly } from '@strata/dataquality-domain';

/** Scorer config: the defaults, or a JSON override in SENTINEL_CONFIG (same variable the service reads). */
const CONFIG = sentinelConfigFromJson(process.env.SENTINEL_CONFIG);

const TUNE_SEEDS = [1, 2, 3];
const TEST_SEEDS = [1001, 1002, 1003, 1004];
const RATE = 0.003; // per kind and free bar
const REPO = join(__dirname, '..');

interface Scenario {
  name: string;
  timeframe: Timeframe;
  calendar: TradingCalendar;
  bars: number;
  symbol: string;
}
const SCENARIOS: Scenario[] = [
  { name: 'equity_1d', timeframe: '1d', calendar: 'nyse', bars: 10_000, symbol: 'SYNEQ' },
  { name: 'equity_1h', timeframe: '1h', calendar: 'nyse', bars: 10_000, symbol: 'SYNEQ' },
  { name: 'equity_5m', timeframe: '5m', calendar: 'nyse', bars: 10_000, symbol: 'SYNEQ' },
  { name: 'crypto_1h', timeframe: '1h', calendar: '24x7', bars: 10_000, symbol: 'BTCUSD' },
];

const withInverses = (fs: number[]) => fs.flatMap((f) => [f, 1 / f]);
/** Size levels: each generation injects every kind at one level's sizes. */
const LEVELS: { name: string; spec: Omit<AnomalySpec, 'rates'> }[] = [
  {
    name: 'small',
    spec: {
      spike: { minSigmas: 2, maxSigmas: 4 },
      badTick: { fields: ['open', 'high', 'low', 'close'], factors: withInverses([1.5, 2]) },
      stale: { minBars: 2, maxBars: 4 },
      volumeBurst: { minFactor: 2, maxFactor: 5 },
      gap: { minBars: 1, maxBars: 1 },
    },
  },
  {
    name: 'medium',
    spec: {
      spike: { minSigmas: 4, maxSigmas: 8 },
      badTick: { fields: ['open', 'high', 'low', 'close'], factors: withInverses([3, 5]) },
      stale: { minBars: 5, maxBars: 7 },
      volumeBurst: { minFactor: 5, maxFactor: 15 },
      gap: { minBars: 2, maxBars: 2 },
    },
  },
  {
    name: 'large',
    spec: {
      spike: { minSigmas: 8, maxSigmas: 16 },
      badTick: { fields: ['open', 'high', 'low', 'close'], factors: withInverses([10]) },
      stale: { minBars: 8, maxBars: 10 },
      volumeBurst: { minFactor: 15, maxFactor: 50 },
      gap: { minBars: 3, maxBars: 3 },
    },
  },
];

/** Size of an injected event in its kind's unit, and the detection-curve bucket it falls in. */
const SIZE: Record<AnomalyKind, { unit: string; of: (e: AnomalyEvent) => number; edges: number[] }> = {
  spike: { unit: 'sigmas', of: (e) => e.sigmas!, edges: [2, 3, 4, 5.5, 8, 12, 16] },
  bad_tick: { unit: 'factor (x or 1/x)', of: (e) => Math.max(e.factor!, 1 / e.factor!), edges: [1.5, 2, 3, 5, 10] },
  stale: { unit: 'bars', of: (e) => e.bars, edges: [2, 3, 4, 5, 6, 7, 8, 9, 10] },
  gap: { unit: 'missing bars', of: (e) => e.missingBars!, edges: [1, 2, 3] },
  volume_burst: { unit: 'factor', of: (e) => e.volumeFactor!, edges: [2, 3, 5, 10, 15, 25, 50] },
};

/** Bucket label of a size: `[a,b)` for ranges, the value itself for discrete sizes (last edge inclusive). */
function bucketOf(kind: AnomalyKind, size: number): string {
  const { edges } = SIZE[kind];
  const discrete = kind === 'bad_tick' || kind === 'stale' || kind === 'gap';
  if (discrete) {
    const e = edges.find((x) => Math.abs(x - size) < 1e-9);
    if (e === undefined) throw new Error(`${kind} size ${size} is not one of ${edges.join(', ')}`);
    return discreteLabel(kind, e);
  }
  for (let i = 0; i < edges.length - 1; i++) {
    const last = i === edges.length - 2;
    if (size >= edges[i] - 1e-9 && (size < edges[i + 1] || (last && size <= edges[i + 1] + 1e-9)))
      return `[${edges[i]},${edges[i + 1]}${last ? ']' : ')'}`;
  }
  throw new Error(`${kind} size ${size} outside ${edges[0]}..${edges[edges.length - 1]}`);
}

interface Bucket {
  events: number;
  detected: number;
  detectedAny: number;
  validRows?: number;
  detectedValid?: number;
}

function main(): void {
  const useTune = process.argv.includes('--seeds=tune');
  const seeds = useTune ? TUNE_SEEDS : TEST_SEEDS;
  const curves = {} as Record<AnomalyKind, Map<string, Bucket>>;
  for (const k of ANOMALY_KINDS)
    curves[k] = new Map(bucketLabels(k).map((b) => [b, { events: 0, detected: 0, detectedAny: 0 }]));
  const falseByKind: Record<string, number> = {};
  const perScenario: Record<string, { clean_bars: number; false_alerts_high: number }> = {};
  let cleanBars = 0;
  let falseAlerts = 0;
  let totalBars = 0;
  let scoreMs = 0;

  for (const sc of SCENARIOS) {
    const agg = (perScenario[sc.name] = { clean_bars: 0, false_alerts_high: 0 });
    for (const level of LEVELS) {
      for (const seed of seeds) {
        const rates = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, RATE]));
        const s = generateSyntheticSeries({
          seed: `${sc.name}:${level.name}:${seed}`,
          bars: sc.bars,
          timeframe: sc.timeframe,
          calendar: sc.calendar,
          anomalies: { rates, ...level.spec },
        });
        const t0 = performance.now();
        const res = scoreBars(
          { bars: s, firstNew: 0, timeframe: sc.timeframe, symbol: sc.symbol, calendar: sc.calendar },
          CONFIG,
        );
        scoreMs += performance.now() - t0;
        totalBars += s.length;
        const truth = s.truth.anomaly;
        const high = res.anomalies.filter((a) => severityAtLeast(a.severity, 'HIGH'));
        const byIndex = new Map<number, BarAnomaly[]>();
        for (const a of high) byIndex.set(a.index, [...(byIndex.get(a.index) ?? []), a]);
        for (let i = 0; i < s.length; i++) if (truth[i] === 0) agg.clean_bars++;
        for (const e of s.truth.events) {
          let any = false;
          let same = false;
          for (let i = e.index; i < e.index + e.bars; i++) {
            for (const a of byIndex.get(i) ?? []) {
              any = true;
              if (a.kind === e.kind) same = true;
            }
          }
          const b = curves[e.kind].get(bucketOf(e.kind, SIZE[e.kind].of(e)))!;
          b.events++;
          if (same) b.detected++;
          if (any) b.detectedAny++;
          if (e.kind === 'bad_tick' && !e.invalidRow) {
            b.validRows = (b.validRows ?? 0) + 1;
            if (same) b.detectedValid = (b.detectedValid ?? 0) + 1;
          }
        }
        for (const a of high) {
          if (truth[a.index] !== 0) continue;
          agg.false_alerts_high++;
          falseByKind[a.kind] = (falseByKind[a.kind] ?? 0) + 1;
        }
        process.stderr.write(
          `${sc.name} ${level.name} seed ${seed}: ${s.length} bars, ${high.length} HIGH+ findings\n`,
        );
      }
    }
    cleanBars += agg.clean_bars;
    falseAlerts += agg.false_alerts_high;
  }

  const ratio = (a: number, b: number) => (b > 0 ? +(a / b).toFixed(4) : null);
  const per10k = (x: number, bars: number) => +((x / bars) * 10_000).toFixed(3);
  const detection: Record<string, unknown> = {};
  for (const k of ANOMALY_KINDS) {
    const buckets: Record<string, unknown> = {};
    let events = 0;
    let detected = 0;
    for (const [label, b] of curves[k]) {
      events += b.events;
      detected += b.detected;
      buckets[label] = {
        events: b.events,
        recall: ratio(b.detected, b.events),
        recall_any_kind: ratio(b.detectedAny, b.events),
        ...(k === 'bad_tick'
          ? { valid_rows: b.validRows ?? 0, recall_valid_rows: ratio(b.detectedValid ?? 0, b.validRows ?? 0) }
          : {}),
      };
    }
    detection[k] = { size_unit: SIZE[k].unit, events, recall_all_sizes: ratio(detected, events), buckets };
  }

  const line = {
    eval: 'sentinel',
    seeds_reported: useTune ? 'tune' : 'test',
    tune_seeds: TUNE_SEEDS,
    test_seeds: TEST_SEEDS,
    scenarios: SCENARIOS.map((s) => `${s.name}(${s.bars} slots/seed/level)`),
    size_levels: LEVELS.map((l) => l.name),
    anomaly_rate_per_kind: RATE,
    severity_min: 'HIGH',
    detector_thresholds: {
      spike_min_sigmas: CONFIG.rules.spikeMinSigmas,
      bad_tick_min_factor: CONFIG.rules.badTickMinFactor,
      stale_min_bars: CONFIG.rules.staleMinBars,
      volume_burst_min_widths: CONFIG.rules.volumeBurstMinWidths,
    },
    synthetic_bars: totalBars,
    clean_bars: cleanBars,
    detection,
    false_alerts_per_10k_clean_high: per10k(falseAlerts, cleanBars),
    false_alerts_by_kind_per_10k_clean: Object.fromEntries(
      Object.entries(falseByKind).map(([k, v]) => [k, per10k(v, cleanBars)]),
    ),
    false_alerts_per_10k_clean_by_scenario: Object.fromEntries(
      Object.entries(perScenario).map(([k, v]) => [k, per10k(v.false_alerts_high, v.clean_bars)]),
    ),
    scoring_bars_per_s: Math.round(totalBars / (scoreMs / 1000)),
    real_data: realData(process.argv.includes('--list')),
    config_override: process.env.SENTINEL_CONFIG ?? null,
    machine: { cpus: cpus().length, node: process.version },
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** `x1.5` for a bad-tick factor, `3 bars` for a stale run or gap (never an integer-like key, which JSON would reorder). */
function discreteLabel(kind: AnomalyKind, size: number): string {
  return kind === 'bad_tick' ? `x${size}` : `${size} bars`;
}

function bucketLabels(kind: AnomalyKind): string[] {
  const { edges } = SIZE[kind];
  const discrete = kind === 'bad_tick' || kind === 'stale' || kind === 'gap';
  if (discrete) return edges.map((e) => discreteLabel(kind, e));
  return edges.slice(0, -1).map((e, i) => `[${e},${edges[i + 1]}${i === edges.length - 2 ? ']' : ')'}`);
}

/** A hand label of one bar of the bundled sample (data/eval/sample-bad-prints.json). */
interface BarLabel {
  symbol: string;
  date: string;
  label: 'bad_print' | 'data_gap' | 'genuine' | 'uncertain';
  evidence: string;
}

function realData(list: boolean): Record<string, unknown> {
  const file = join(REPO, 'data', 'eval', 'sample-bad-prints.json');
  const labels = (JSON.parse(readFileSync(file, 'utf8')) as { labels: BarLabel[] }).labels;
  const symbols = [...new Set(labels.map((l) => l.symbol))].sort();
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const byClass: Record<
    string,
    { labelled: number; alerted_high: number; missed?: string[]; alerted?: string[]; probable_splits?: string[] }
  > = {};
  for (const c of ['bad_print', 'data_gap', 'genuine', 'uncertain']) byClass[c] = { labelled: 0, alerted_high: 0 };
  let bars = 0;
  let unlabelledAlerts = 0;
  const unlabelledBySymbol: Record<string, number> = {};
  for (const symbol of symbols) {
    const parsed = parseBarsCsv(readFileSync(join(REPO, 'data', 'sample', `${symbol}_1d.csv`), 'utf8'));
    const res = scoreBars({ bars: parsed.bars, firstNew: 0, timeframe: '1d', symbol }, CONFIG);
    bars += parsed.bars.ts.length;
    const alerts = new Map<string, BarAnomaly[]>();
    for (const a of res.anomalies)
      if (severityAtLeast(a.severity, 'HIGH')) alerts.set(iso(a.ts), [...(alerts.get(iso(a.ts)) ?? []), a]);
    const splits = new Map(
      res.anomalies
        .filter((a) => a.kind === 'probable_split')
        .map((a) => [iso(a.ts), `${a.proposedSplit?.newShares}:${a.proposedSplit?.oldShares} ${a.severity}`]),
    );
    const mine = labels.filter((l) => l.symbol === symbol);
    const dates = new Set(Array.from(parsed.bars.ts, iso));
    for (const l of mine) {
      if (!dates.has(l.date)) throw new Error(`${file}: ${symbol} has no bar on ${l.date}`);
      const c = byClass[l.label];
      c.labelled++;
      const found = alerts.get(l.date);
      const tag = `${symbol} ${l.date}${found ? ` ${found.map((a) => `${a.kind}:${a.severity}`).join('+')}` : ''}`;
      if (found) c.alerted_high++;
      const problem = l.label === 'bad_print' || l.label === 'data_gap';
      if (problem && !found) (c.missed ??= []).push(tag);
      if (l.label === 'genuine' && found) (c.alerted ??= []).push(tag);
      if (l.label === 'genuine' && splits.has(l.date))
        (c.probable_splits ??= []).push(`${symbol} ${l.date} ${splits.get(l.date)}`);
    }
    const labelled = new Set(mine.map((l) => l.date));
    for (const [date, as] of alerts) {
      if (labelled.has(date)) continue;
      unlabelledAlerts++;
      unlabelledBySymbol[symbol] = (unlabelledBySymbol[symbol] ?? 0) + 1;
      if (list)
        process.stderr.write(
          `unlabelled alert ${symbol} ${date}: ${as.map((a) => `${a.kind}:${a.severity} ${a.reason}`).join(' | ')}\n`,
        );
    }
  }
  const recall = (c: { labelled: number; alerted_high: number }) => ({
    ...c,
    recall: c.labelled ? +(c.alerted_high / c.labelled).toFixed(4) : null,
  });
  return {
    labels: 'data/eval/sample-bad-prints.json (hand-labelled, never used for tuning)',
    symbols,
    bars,
    bad_print: recall(byClass.bad_print),
    data_gap: recall(byClass.data_gap),
    genuine: byClass.genuine,
    uncertain: byClass.uncertain,
    unlabelled_alerts_high: unlabelledAlerts,
    unlabelled_alerts_per_10k_bars: +((unlabelledAlerts / bars) * 10_000).toFixed(2),
    unlabelled_alerts_by_symbol: unlabelledBySymbol,
  };
}

main();
