// MAX_INFLIGHT_BYTES: the bytes of ingest request bodies held in memory at once, counted as they
// arrive (as received, and as inflated) and refused the moment they would pass the budget. Counted
// only once a body had been read and inflated, the budget bounded nothing while bodies arrived:
// 60 parallel gzip bombs of 510 KB each held 64 MiB each (3.7 GB resident) before each was
// refused 413, and 48 uploads of 60 MiB were read whole (3.2 GB) before 26 of them got 503.
import type { IncomingMessage } from 'node:http';
import { errors, type CorrelatorError } from './errors.js';

/** Seconds a client refused for memory is told to wait: bodies in flight are answered in about that. */
const RETRY_AFTER_SECONDS = 2;

export class InflightBodyBytes {
  private total = 0;
  private highest = 0;

  constructor(
    /** MAX_INFLIGHT_BYTES. */
    readonly configuredLimit: number,
    /** Body bytes the heap has room for now (runtime/heap-headroom.ts); none by default. */
    private readonly heapAllows: () => number = () => Number.POSITIVE_INFINITY,
  ) {}

  /** The budget now: MAX_INFLIGHT_BYTES, or less when the heap has room for less. */
  get limit(): number {
    return Math.min(this.configuredLimit, this.heapAllows());
  }

  /** Bytes held now by every request. */
  get held(): number {
    return this.total;
  }

  /** The most ever held at once, which shows how close the budget came to being passed. */
  get peak(): number {
    return this.highest;
  }

  /** A request's share of the budget, empty until its body arrives. */
  open(): BodyBytesHold {
    return new BodyBytesHold(this);
  }

  /** @internal BodyBytesHold's bookkeeping. */
  adjust(bytes: number): void {
    this.total += bytes;
    if (this.total > this.highest) this.highest = this.total;
  }
}

/**
 * One request's bytes. A request alone may pass the budget, up to MAX_BODY_BYTES: a budget smaller
 * than the body limit must not make a body that fits it impossible to send.
 */
export class BodyBytesHold {
  private bytes = 0;
  /** Content-Length, counted in full before the body is read: its raw bytes are all to come. */
  private declared = 0;
  private received = 0;
  private released = false;

  constructor(private readonly budget: InflightBodyBytes) {}

  get held(): number {
    return this.bytes;
  }

  /**
   * Counts `bytes` more against the budget; false, counting nothing, when they do not fit beside
   * what other requests hold. Once released, nothing more is counted: the request is over.
   */
  take(bytes: number): boolean {
    if (this.released || bytes <= 0) return true;
    const others = this.budget.held - this.bytes;
    if (others > 0 && this.budget.held + bytes > this.budget.limit) return false;
    this.bytes += bytes;
    this.budget.adjust(bytes);
    return true;
  }

  /** Counts the declared Content-Length before any of the body is read. */
  reserveDeclared(bytes: number): boolean {
    if (!this.take(bytes)) return false;
    this.declared += bytes;
    return true;
  }

  /** Counts raw bytes as they arrive; those a Content-Length announced are counted already. */
  takeReceived(bytes: number): boolean {
    const beyondDeclared = Math.max(
      0,
      this.received + bytes - Math.max(this.declared, this.received),
    );
    if (!this.take(beyondDeclared)) return false;
    this.received += bytes;
    return true;
  }

  /** Gives every byte back; called when the request ends, however it ends. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.adjust(-this.bytes);
    this.bytes = 0;
  }

  /** The 503 for `bytes` that did not fit: `declared` when judged by Content-Length alone. */
  refusal(bytes: number, declared: boolean): CorrelatorError {
    const { held, limit, configuredLimit } = this.budget;
    const size = declared
      ? `this one is ${mib(bytes)} MiB`
      : `this one had reached ${mib(this.bytes + bytes)} MiB as it arrived`;
    const bound =
      limit < configuredLimit
        ? `limit ${mib(limit)} MiB, what the heap has room for now, under MAX_INFLIGHT_BYTES's ` +
          `${mib(configuredLimit)} MiB; a larger --max-old-space-size raises it`
        : `limit MAX_INFLIGHT_BYTES, ${mib(limit)} MiB`;
    return errors.unavailable(
      `ingest is holding ${mib(held)} MiB of request bodies, and ${size} (${bound}); retry shortly`,
      RETRY_AFTER_SECONDS,
    );
  }
}

const holds = new WeakMap<IncomingMessage, BodyBytesHold>();

/** Ties a hold to its request, for the body readers of the preParsing stage to count against. */
export function attachBodyBytesHold(raw: IncomingMessage, hold: BodyBytesHold): void {
  holds.set(raw, hold);
}

/** The request's hold; undefined for routes whose bodies are not counted (not ingest). */
export function bodyBytesHoldOf(raw: IncomingMessage): BodyBytesHold | undefined {
  return holds.get(raw);
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
