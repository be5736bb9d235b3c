/** str() and repr() of Python's datetime.timedelta, from a whole number of microseconds. */

function split(micros: number): { days: number; seconds: number; us: number } {
  // timedelta normalizes to days (may be negative), 0 <= seconds < 86400, 0 <= microseconds < 1e6
  const days = Math.floor(micros / 86_400e6);
  const rest = micros - days * 86_400e6;
  const seconds = Math.floor(rest / 1e6);
  return { days, seconds, us: rest - seconds * 1e6 };
}

/** str(timedelta): '0:00:30', '0:00:00.500000', '1 day, 2:03:04', '-1 day, 23:59:59' */
export function timedeltaStr(micros: number): string {
  const { days, seconds, us } = split(micros);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  let out = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  if (us) out += '.' + String(us).padStart(6, '0');
  if (days) out = `${days} day${Math.abs(days) !== 1 ? 's' : ''}, ` + out;
  return out;
}

/** repr(timedelta): 'datetime.timedelta(seconds=30)', 'datetime.timedelta(days=1, microseconds=5)', 'datetime.timedelta(0)' */
export function timedeltaRepr(micros: number): string {
  const { days, seconds, us } = split(micros);
  const args: string[] = [];
  if (days) args.push(`days=${days}`);
  if (seconds) args.push(`seconds=${seconds}`);
  if (us) args.push(`microseconds=${us}`);
  return `datetime.timedelta(${args.length ? args.join(', ') : '0'})`;
}
