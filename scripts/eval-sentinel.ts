/**
 * `npm run eval:sentinel`: measures the data-quality sentinel on the synthetic generator's labelled anomalies and counts
 * its findings on the real sample data. Prints ONE JSON line on stdout (progress on stderr).
 *
 * Protocol: thresholds and rule constants were tuned on the TUNE seeds only; the figures and targets reported are from
 * the TEST seeds (disjoint), unless `--seeds=tune` is passed (used while tuning).
 * Metrics, at HIGH and above, per injected kind K:
 * - recall: share of injected K events with a finding of kind K on one of the event's labelled bars
 *   (`recall_any_kind`: with a finding of any kind);
 * - precision: share of kind-K findings that lie on a bar labelled K;
 * - false alerts per 10,000 clean bars: findings of any kind on bars the generator left clean.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { type Timeframe } from '@strata/marketdata-contracts';
import {
  parseBarsCsv,
  ANOMALY_KINDS as SYN_KINDS,
  generateSyntheticSeries,
  type SyntheticConfig,
} from '@strata/marketdata-domain';
import { type TradingCalendar } from '@strata/shared-timeseries';
import { scoreBars, sentinelConfigFromJson, severityAtLeast, type BarAnomaly } from '@strata/dataquality-domain';

/** Scorer config: the defaults, or a JSON override in SENTINEL_CONFIG (same variable the service reads). */
const CONFIG = sentinelConfigFromJson(process.env.SENTINEL_CONFIG);

const TUNE_SEEDS = [1, 2, 3];
const TEST_SEEDS = [1001, 1002, 1003, 1004];
const RATE = 0.003; // per kind and free bar

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

const KIND_CODE: Record<string, number> = { spike: 1, gap: 2, stale: 3, bad_tick: 4, volume_burst: 5 };

function main(): void {
  const useTune = process.argv.includes('--seeds=tune');
  const seeds = useTune ? TUNE_SEEDS : TEST_SEEDS;
  const perKind: Record<
    string,
    { events: number; hitKind: number; hitAny: number; findings: number; findingsOnKind: number }
  > = {};
  for (const k of SYN_KINDS) perKind[k] = { events: 0, hitKind: 0, hitAny: 0, findings: 0, findingsOnKind: 0 };
  const falseByKind: Record<string, number> = {};
  const falseByKindMedium: Record<string, number> = {};
  let cleanBars = 0;
  let falseAlerts = 0;
  let totalBars = 0;
  let scoreMs = 0;
  const perScenario: Record<
    string,
    { bars: number; clean: number; false_alerts_high: number; recall_by_kind: Record<string, number> }
  > = {};

  for (const sc of SCENARIOS) {
    const sAgg = { bars: 0, clean: 0, false_alerts_high: 0, recall_by_kind: {} as Record<string, number> };
    const sEvents: Record<string, [number, number]> = {};
    for (const seed of seeds) {
      const cfg: SyntheticConfig = {
        seed: `${sc.name}:${seed}`,
        bars: sc.bars,
        timeframe: sc.timeframe,
        calendar: sc.calendar,
        anomalies: { rates: { spike: RATE, gap: RATE, stale: RATE, bad_tick: RATE, volume_burst: RATE } },
      };
      const s = generateSyntheticSeries(cfg);
      const t0 = performance.now();
      const res = scoreBars(
        { bars: s, firstNew: 0, timeframe: sc.timeframe, symbol: sc.symbol, calendar: sc.calendar },
        CONFIG,
      );
      scoreMs += performance.now() - t0;
      totalBars += s.length;
      sAgg.bars += s.length;
      const truth = s.truth.anomaly;
      const high = res.anomalies.filter((a) => severityAtLeast(a.severity, 'HIGH'));
      const byIndex = new Map<number, BarAnomaly[]>();
      for (const a of high) byIndex.set(a.index, [...(byIndex.get(a.index) ?? []), a]);
      for (let i = 0; i < s.length; i++) if (truth[i] === 0) cleanBars++;
      for (let i = 0; i < s.length; i++) if (truth[i] === 0) sAgg.clean++;
      for (const e of s.truth.events) {
        const pk = perKind[e.kind];
        pk.events++;
        let any = false;
        let kind = false;
        for (let i = e.index; i < e.index + e.bars; i++) {
          for (const a of byIndex.get(i) ?? []) {
            any = true;
            if (a.kind === e.kind) kind = true;
          }
        }
        if (any) pk.hitAny++;
        if (kind) pk.hitKind++;
        const se = (sEvents[e.kind] ??= [0, 0]);
        se[0]++;
        if (kind) se[1]++;
      }
      for (const a of high) {
        if (a.kind in perKind) {
          perKind[a.kind].findings++;
          if (truth[a.index] === KIND_CODE[a.kind]) perKind[a.kind].findingsOnKind++;
        }
        if (truth[a.index] === 0) {
          falseAlerts++;
          sAgg.false_alerts_high++;
          falseByKind[a.kind] = (falseByKind[a.kind] ?? 0) + 1;
        }
      }
      for (const a of res.anomalies) {
        if (truth[a.index] === 0 && a.severity === 'MEDIUM')
          falseByKindMedium[a.kind] = (falseByKindMedium[a.kind] ?? 0) + 1;
      }
      process.stderr.write(`${sc.name} seed ${seed}: ${s.length} bars, ${high.length} HIGH+ findings\n`);
    }
    for (const [k, [n, hit]] of Object.entries(sEvents)) sAgg.recall_by_kind[k] = +(hit / n).toFixed(4);
    perScenario[sc.name] = sAgg;
  }

  const per10k = (x: number) => +((x / cleanBars) * 10_000).toFixed(3);
  const kinds: Record<string, unknown> = {};
  for (const k of SYN_KINDS) {
    const p = perKind[k];
    kinds[k] = {
      events: p.events,
      recall: +(p.hitKind / Math.max(1, p.events)).toFixed(4),
      recall_any_kind: +(p.hitAny / Math.max(1, p.events)).toFixed(4),
      precision: p.findings ? +(p.findingsOnKind / p.findings).toFixed(4) : null,
      findings_high: p.findings,
      false_alerts_per_10k_clean: per10k(falseByKind[k] ?? 0),
    };
  }
  const fa = per10k(falseAlerts);
  const targets: Record<string, unknown> = {};
  let allMet = true;
  for (const k of ['spike', 'bad_tick', 'stale']) {
    const rec = (kinds[k] as { recall: number }).recall;
    const met = rec >= 0.9 && fa <= 5;
    allMet &&= met;
    targets[`${k}_recall_ge_0_9_at_le_5_false_per_10k`] = {
      recall: rec,
      false_alerts_per_10k_clean: fa,
      met,
      ...(met
        ? {}
        : {
            gap: { recall: +Math.max(0, 0.9 - rec).toFixed(4), false_alerts_per_10k: +Math.max(0, fa - 5).toFixed(3) },
          }),
    };
  }
  targets.met = allMet;

  const real = realDataCounts();
  const line = {
    eval: 'sentinel',
    seeds_reported: useTune ? 'tune' : 'test',
    tune_seeds: TUNE_SEEDS,
    test_seeds: TEST_SEEDS,
    scenarios: SCENARIOS.map((s) => `${s.name}(${s.bars} slots/seed)`),
    anomaly_rate_per_kind: RATE,
    synthetic_bars: totalBars,
    clean_bars: cleanBars,
    severity_min: 'HIGH',
    per_kind: kinds,
    false_alerts_per_10k_clean_high: fa,
    false_alerts_by_kind_per_10k_clean: Object.fromEntries(Object.entries(falseByKind).map(([k, v]) => [k, per10k(v)])),
    medium_findings_on_clean_per_10k: Object.fromEntries(
      Object.entries(falseByKindMedium).map(([k, v]) => [k, per10k(v)]),
    ),
    per_scenario: perScenario,
    scoring_bars_per_s: Math.round(totalBars / (scoreMs / 1000)),
    detectability_notes: [
      'gap: on intraday session calendars, holes that touch a session edge (the last bars of one session and/or the first of the next) leave no hole the calendar can see (session open/close times are not modelled, as in findCalendarGaps); every missed gap in the test seeds is of this kind (see per_scenario.recall_by_kind: daily and 24x7 gaps are all found).',
      'volume_burst: a 20-50x burst is within the volume a genuine large move brings in the generator (volume loads on |return|); bursts on bars that moved >= 3 sigma are indistinguishable and capped at MEDIUM, and a x20 burst is only about 2-3 interval half-widths above the forecast, so part of them stay below HIGH.',
      'spike: a spike injected on a bar that also carries a genuine Merton jump can land back at the old level and then looks like a held move (not reverting).',
    ],
    real_data: real,
    targets,
    config_override: process.env.SENTINEL_CONFIG ?? null,
    machine: { cpus: cpus().length, node: process.version },
  };
  process.stdout.write(JSON.stringify(line) + '\n');
}

function realDataCounts(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const dirs: [string, string][] = [
    ['sample', join(__dirname, '..', 'data', 'sample')],
    ['shared', join(__dirname, '..', '..', 'shared', 'data', 'market')],
  ];
  for (const [label, dir] of dirs) {
    if (!existsSync(dir)) {
      out[label] = { error: `missing ${dir}` };
      continue;
    }
    const files: Record<string, unknown> = {};
    for (const f of readdirSync(dir)
      .filter((x) => /_1d\.csv$/.test(x))
      .sort()) {
      const symbol = f.replace(/_1d\.csv$/, '');
      const parsed = parseBarsCsv(readFileSync(join(dir, f), 'utf8'));
      const bars = parsed.bars;
      const res = scoreBars({ bars, firstNew: 0, timeframe: '1d', symbol }, CONFIG);
      const counts: Record<string, number> = {};
      for (const a of res.anomalies) counts[`${a.kind}:${a.severity}`] = (counts[`${a.kind}:${a.severity}`] ?? 0) + 1;
      const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      files[symbol] = {
        bars: bars.length,
        rejected_rows: parsed.rejects.length,
        counts,
        probable_splits: res.anomalies
          .filter((a) => a.kind === 'probable_split')
          .map((a) => `${iso(a.ts)} ${a.proposedSplit?.newShares}:${a.proposedSplit?.oldShares}`),
        high_plus: res.anomalies
          .filter((a) => severityAtLeast(a.severity, 'HIGH'))
          .map((a) => `${iso(a.ts)} ${a.kind} ${a.severity}`),
      };
    }
    out[label] = files;
  }
  return out;
}

main();
