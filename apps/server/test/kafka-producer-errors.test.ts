// How the server answers the Kafka client's produce failures, built as the client builds them
// (a produce response with per-partition errors, wrapped by the client's retries). A batch the
// broker refused only for the idempotent producer's state was not written: it must stay
// retriable (a buffered request already answered 202 is sent again, not dropped), while a
// refusal of the records themselves is final.
import { MultipleErrors, ResponseError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { toProxyError } from '../src/kafka-producer.js';

/** A failed send as the client reports it: a produce response refused with `code` (Kafka's). */
function failedSend(code: number): Error {
  const response = {
    responses: [
      {
        name: 't',
        partitionResponses: [{ index: 3, errorCode: code, baseOffset: -1n, recordErrors: [] }],
      },
    ],
  };
  const refused = new ResponseError(
    0,
    11,
    { '/responses/0/partition_responses/0': [code, null] },
    response,
  );
  return new MultipleErrors('Producing messages failed.', [
    new MultipleErrors('produce failed 2 times.', [refused]),
  ]);
}

describe('toProxyError on produce failures', () => {
  it.each([
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
    ['UNKNOWN_PRODUCER_ID', 59],
  ])('keeps a batch refused with %s retriable', (_name, code) => {
    const error = toProxyError(failedSend(code));
    expect(error).toMatchObject({ code: 'kafka_unavailable', retriable: true });
  });

  it('answers a refusal of the records themselves as final', () => {
    // INVALID_REQUIRED_ACKS (21): not retriable.
    const error = toProxyError(failedSend(21));
    expect(error).toMatchObject({ code: 'kafka_rejected', retriable: false });
  });
});
