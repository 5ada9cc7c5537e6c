/**
 * Stationary distribution π of a row-stochastic transition matrix P (π P = π, Σπ = 1), solved directly by Gaussian
 * elimination with partial pivoting on (Pᵀ − I) with the last equation replaced by Σπ = 1.
 * Guarantees: exact up to floating-point rounding for an irreducible chain; throws for a singular system (a chain with
 * more than one closed class has no unique stationary distribution).
 */
export function stationaryDistribution(p: readonly (readonly number[])[]): number[] {
  const k = p.length;
  const a: number[][] = [];
  for (let i = 0; i < k; i++) {
    const row: number[] = new Array(k + 1).fill(0);
    for (let j = 0; j < k; j++) row[j] = p[j][i] - (i === j ? 1 : 0);
    a.push(row);
  }
  a[k - 1] = new Array(k + 1).fill(1);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-14)
      throw new RangeError('transition matrix has no unique stationary distribution');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = a[r][col] / a[col][col];
      if (f === 0) continue;
      for (let c = col; c <= k; c++) a[r][c] -= f * a[col][c];
    }
  }
  return a.map((row, i) => row[k] / row[i]);
}

/** Expected number of consecutive bars spent in each regime, 1 / (1 − P[i][i]). */
export function expectedSojournBars(p: readonly (readonly number[])[]): number[] {
  return p.map((row, i) => 1 / (1 - row[i]));
}
