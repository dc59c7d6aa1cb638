// The few Kafka helpers these tests need, over @kproxy/testkit.
import { createTopic, kafka, kafkaBrokers, readMessages, uniqueTopic } from '@kproxy/testkit';

export { createTopic, kafkaBrokers, uniqueTopic };

/** The first `count` messages of `topic`, values only. */
export async function readValues(topic: string, count: number): Promise<Buffer[]> {
  const messages = await readMessages(topic, { count });
  return messages.map((m) => m.value);
}

/** Every message of `topic` so far (up to its end offsets when called), values only. */
export async function readAllValues(topic: string): Promise<Buffer[]> {
  const admin = kafka().admin();
  await admin.connect();
  let count = 0;
  try {
    for (const partition of await admin.fetchTopicOffsets(topic)) {
      count += Number(partition.high) - Number(partition.low);
    }
  } finally {
    await admin.disconnect();
  }
  return readValues(topic, count);
}
