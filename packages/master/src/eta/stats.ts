// Robust centres for small samples of durations.

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Exponentially weighted mean, oldest first: recent builds weigh more. */
export function ewma(values: readonly number[], alpha: number): number | undefined {
  if (values.length === 0) return undefined;
  let m = values[0]!;
  for (let i = 1; i < values.length; i++) m = alpha * values[i]! + (1 - alpha) * m;
  return m;
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
