// What the global setup hands to the test workers through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated bootstrap servers of the run's Kafka broker, e.g. `127.0.0.1:21009`. */
    kafkaBrokers: string;
  }
}

export {};
