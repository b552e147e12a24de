// CRI timestamps are int64 nanoseconds since the epoch: too large for a JS number, so they travel
// as decimal strings (proto-loader's longs: String) and are built here from BigInt.

/** Nanoseconds since the epoch now, with microsecond resolution. */
export function nowNs(): bigint {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return BigInt(micros) * 1000n;
}
