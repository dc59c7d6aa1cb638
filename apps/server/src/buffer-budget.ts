import { ProxyError } from './errors.js';

/**
 * Message bytes a request holds against the budget: grown while its body is decoded, handed to the
 * flusher with the request, released once its batch settled (or it was rejected).
 */
export interface Reservation {
  readonly bytes: number;
  /** Adds `n` bytes; throws `buffer_full` (503) when the budget cannot take them. */
  grow(n: number): void;
  /** Gives every byte back; safe to call more than once. */
  release(): void;
  /**
   * Moves `n` of this reservation's bytes into a new reservation of their own (the budget holds
   * the same bytes), for a request whose parts settle apart.
   */
  split(n: number): Reservation;
}

/** Where the budget reports the bytes it holds (`kafka_proxy_reserved_bytes`). */
export interface ReservedGauge {
  set(bytes: number): void;
}

/**
 * The bound on memory held by messages: being received, buffered, or in flight to Kafka. Bytes are
 * reserved as a body is decoded, so many concurrent large uploads cannot exceed the bound either.
 * The gauge, when given, follows every change, so it is current whoever grows or releases.
 *
 * @example
 * const budget = new BufferBudget(256 * 1024 * 1024, metrics.reservedBytes);
 * const r = budget.reserve();
 * r.grow(1024); // throws ProxyError('buffer_full') past the bound
 * r.release();
 */
export class BufferBudget {
  #used = 0;

  constructor(
    readonly limit: number,
    private readonly gauge?: ReservedGauge,
  ) {}

  /** Bytes currently reserved. */
  get used(): number {
    return this.#used;
  }

  /** A new, empty reservation. */
  reserve(): Reservation {
    return this.#reservation(0);
  }

  #reservation(initial: number): Reservation {
    let held = initial;
    let released = false;
    return {
      get bytes() {
        return held;
      },
      grow: (n) => {
        if (released) throw new Error('reservation already released');
        if (this.#used + n > this.limit) {
          throw new ProxyError(
            'buffer_full',
            'the proxy is holding as many bytes as it may (KAFKA_PROXY_MAX_BUFFERED_BYTES); retry later',
          );
        }
        this.#used += n;
        held += n;
        this.gauge?.set(this.#used);
      },
      release: () => {
        if (released) return;
        released = true;
        this.#used -= held;
        held = 0;
        this.gauge?.set(this.#used);
      },
      split: (n) => {
        if (released) throw new Error('reservation already released');
        if (!(n >= 0 && n <= held)) throw new RangeError(`cannot split ${n} of ${held} bytes`);
        held -= n;
        return this.#reservation(n);
      },
    };
  }
}
