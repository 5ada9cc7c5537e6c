/**
 * GARCH(1,1) with constant mean and standardised Student-t errors: our maximum-likelihood fit (`fitGarchT`, the filter
 * and the parametric method of the probabilistic KPI bands) against arch's `arch_model(..., dist='t')` on the same
 * series: a synthetic GARCH-t series and every bundled daily series (close-to-close log returns in percent). Each
 * parameter within 1e-3 relative, the log-likelihood within 1e-6 relative.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { equityReturns, fitGarchT, generateGarchTReturns, logReturns } from '@strata/backtests-domain';
import { REPO, bundledSeries, peerPython, runPython } from './peers';

const PARAM_REL = 1e-3;
const LOG_LIK_REL = 1e-6;
const peer = peerPython(['arch', 'numpy'], 'GARCH(1,1)-t fit vs arch (peer project)');
const FILES = readdirSync(join(REPO, 'data', 'sample'))
  .filter((f) => f.endsWith('_1d.csv'))
  .sort();

peer.describeIf('GARCH(1,1)-t maximum likelihood equals arch on the same series', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'garch-t-peer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, () => Float64Array][] = [
    ['synthetic', () => generateGarchTReturns(2000, { mu: 0.04, omega: 0.02, alpha: 0.08, beta: 0.9, nu: 6 }, 7)],
    ...bundledSeries(FILES).map((s): [string, () => Float64Array] => [
      s.symbol,
      () => logReturns(equityReturns(s.close)).map((v) => 100 * v),
    ]),
  ];

  it.each(cases)('%s', (name, make) => {
    const y = make();
    const file = join(dir, `${name}.f64`);
    writeFileSync(file, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    const arch = JSON.parse(runPython(peer.python!, [join(REPO, 'bench', 'peers', 'kpi_bands_peer.py'), 'fit', file]));
    const ours = fitGarchT(y);
    for (const k of ['mu', 'omega', 'alpha', 'beta', 'nu'] as const) {
      const rel = Math.abs(ours[k] - arch[k]) / Math.abs(arch[k]);
      if (rel > PARAM_REL) throw new Error(`${name} ${k}: ours ${ours[k]} arch ${arch[k]} (relative ${rel})`);
    }
    const llRel = Math.abs(ours.logLikelihood - arch.logLikelihood) / Math.abs(arch.logLikelihood);
    expect(llRel).toBeLessThanOrEqual(LOG_LIK_REL);
  });
});
