/**
 * The default topic that `POST /` pushes to. `current()` is synchronous so that a request reads
 * the value at the time it arrives; `set()` resolves only once the change is durable.
 */
export interface TopicStore {
  start(): Promise<void>;
  current(): string;
  set(topic: string): Promise<void>;
  close(): Promise<void>;
}
