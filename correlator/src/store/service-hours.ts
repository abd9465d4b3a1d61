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
 * The distinct (hour, service) pairs of a set of traces. Traces are added with their services as
 * the JSON array stored on their rows: most traces of a request share a few such arrays, so each
 * is parsed once per hour rather than once per trace.
 */
export class ServiceHourSet {
  private readonly byHour = new Map<number, Set<string>>();

  /** A trace whose data spans firstMs..lastMs, of these services (a JSON array of names). */
  add(firstMs: number, lastMs: number, servicesJson: string): void {
    if (servicesJson === '[]') return;
    const first = hourOf(firstMs);
    const last = hourOf(Math.max(firstMs, lastMs));
    if ((last - first) / SERVICE_HOUR_MS >= MAX_HOURS_PER_TRACE) {
      this.mark(first, servicesJson);
      this.mark(last, servicesJson);
      return;
    }
    for (let h = first; h <= last; h += SERVICE_HOUR_MS) this.mark(h, servicesJson);
  }

  /** Each pair once, hours ascending. */
  *pairs(): Generator<[hourMs: number, service: string]> {
    for (const hour of [...this.byHour.keys()].sort((a, b) => a - b)) {
      const services = new Set<string>();
      for (const json of this.byHour.get(hour)!) for (const s of JSON.parse(json) as string[]) services.add(s);
      for (const s of services) yield [hour, s];
    }
  }

  private mark(hour: number, servicesJson: string): void {
    let set = this.byHour.get(hour);
    if (!set) this.byHour.set(hour, (set = new Set()));
    set.add(servicesJson);
  }
}
