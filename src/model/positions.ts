/**
 * The fixed sinusoid table of crammedBERT's scaled-sinusoidal positions (spec §2.1): interleaved, not
 * concatenated — pe[p][2i] = sin(p·d_i), pe[p][2i+1] = cos(p·d_i), d_i = exp(2i · −ln(10000)/H).
 * Built in float64 and rounded once; the reference builds it in float32 (differences ≤ 1e-5, far below
 * tolerance). The learned `scale_factor` multiplies it at embedding time.
 */
export function sinusoidTable(maxSeqLength: number, hidden: number): Float32Array {
  const table = new Float32Array(maxSeqLength * hidden);
  const step = -Math.log(10000) / hidden;
  for (let p = 0; p < maxSeqLength; p++) {
    for (let i = 0; 2 * i < hidden; i++) {
      const angle = p * Math.exp(2 * i * step);
      table[p * hidden + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < hidden) table[p * hidden + 2 * i + 1] = Math.cos(angle);
    }
  }
  return table;
}
