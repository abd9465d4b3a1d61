// Which services had data in which hours. The services of a time range (GET /api/services, the
// datasource's service variable) are read from these pairs, a few per hour: reading the services of
// every trace in a busy week took seconds, and the service graph, which reads only the most recent
// traces of a range, left older services out.

export const SERVICE_HOUR_MS = 3_600_000;

/**
 * A trace longer than this many hours marks only its first and last: a span dated 1971 in a trace
 * that ends now would otherwise mark half a million hours.
 */
export const MAX_HOURS_PER_TRACE = 48;

export function hourOf(ms: number): number {
  return Math.floor(ms / SERVICE_HOUR_MS) * SERVICE_HOUR_MS;
}

/**
 * The distinct (hour, service) pairs of a set of traces, each with the last datum of the traces
 * that mark it: retention deletes a trace once its last datum is older than the cutoff, so a pair
 * whose last datum is older has no trace left (judged by the hour's end instead, a service whose
 * data retention had deleted was listed until the hour ended, up to an hour past a short
 * retention). Traces are added with their services as the JSON array stored on their rows: most
 * traces of a request share a few such arrays, so each is parsed once per hour rather than once
 * per trace.
 */
export class ServiceHourSet {
  /** Per hour, the last datum of the traces of each services array. */
  private readonly byHour = new Map<number, Map<string, number>>();

  /** A trace whose data spans firstMs..lastMs, of these services (a JSON array of names). */
  add(firstMs: number, lastMs: number, servicesJson: string): void {
    if (servicesJson === '[]') return;
    const endMs = Math.max(firstMs, lastMs);
    const first = hourOf(firstMs);
    const last = hourOf(endMs);
    if ((last - first) / SERVICE_HOUR_MS >= MAX_HOURS_PER_TRACE) {
      this.mark(first, servicesJson, endMs);
      this.mark(last, servicesJson, endMs);
      return;
    }
    for (let h = first; h <= last; h += SERVICE_HOUR_MS) this.mark(h, servicesJson, endMs);
  }

  /** Each pair once, hours ascending, with its last datum. */
  *pairs(): Generator<[hourMs: number, service: string, lastMs: number]> {
    for (const hour of [...this.byHour.keys()].sort((a, b) => a - b)) {
      const services = new Map<string, number>();
      for (const [json, lastMs] of this.byHour.get(hour)!)
        for (const s of JSON.parse(json) as string[]) services.set(s, Math.max(lastMs, services.get(s) ?? -Infinity));
      for (const [s, lastMs] of services) yield [hour, s, lastMs];
    }
  }

  private mark(hour: number, servicesJson: string, lastMs: number): void {
    let arrays = this.byHour.get(hour);
    if (!arrays) this.byHour.set(hour, (arrays = new Map()));
    arrays.set(servicesJson, Math.max(lastMs, arrays.get(servicesJson) ?? -Infinity));
  }
}
