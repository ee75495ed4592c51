import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type PublishBatchResultEntry,
  type BatchResultErrorEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { errorName } from '../aws/faults';
import { entryBytes, SNS_MAX_BYTES, toPublishEntry, type AlertMessage } from './messages';

/** Where alert messages go: an SNS topic when deployed, a local sink in the demo. */
export interface AlertSink {
  publishBatch(
    entries: PublishBatchRequestEntry[],
  ): Promise<{ Successful?: PublishBatchResultEntry[]; Failed?: BatchResultErrorEntry[] }>;
}

export class SnsAlertSink implements AlertSink {
  constructor(
    private readonly sns: SNSClient,
    readonly topicArn: string,
  ) {}

  publishBatch(entries: PublishBatchRequestEntry[]) {
    return this.sns.send(
      new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: entries }),
    );
  }
}

/** The embedded default's sink: keeps (and optionally prints) what would have been sent. */
export class LocalAlertSink implements AlertSink {
  readonly sent: PublishBatchRequestEntry[] = [];
  constructor(private readonly print?: (entry: PublishBatchRequestEntry) => void) {}

  async publishBatch(entries: PublishBatchRequestEntry[]) {
    for (const entry of entries) {
      this.sent.push(entry);
      this.print?.(entry);
    }
    return {
      Successful: entries.map((e) => ({ Id: e.Id, MessageId: `local-${this.sent.length}` })),
      Failed: [],
    };
  }
}

export interface PublishOutcome {
  /** Outbox alert ids whose message SNS accepted. */
  delivered: Set<string>;
  failed: { subject: string; alertIds: string[]; error: string }[];
  messages: number;
  requests: number;
}

/**
 * Publishes messages with SNS PublishBatch: at most 10 entries and 256 KB per request. An entry that
 * SNS reports in `Failed`, or a request that fails as a whole, leaves its alerts undelivered: they stay
 * in the outbox and go out with the next run.
 */
export class AlertPublisher {
  constructor(
    private readonly sink: AlertSink,
    private readonly limits = { maxEntries: 10, maxBytes: SNS_MAX_BYTES },
  ) {}

  async publish(messages: readonly AlertMessage[]): Promise<PublishOutcome> {
    const outcome: PublishOutcome = {
      delivered: new Set(),
      failed: [],
      messages: messages.length,
      requests: 0,
    };
    const batches: { message: AlertMessage; entry: PublishBatchRequestEntry }[][] = [];
    let current: { message: AlertMessage; entry: PublishBatchRequestEntry }[] = [];
    let bytes = 0;
    for (const message of messages) {
      const entry = toPublishEntry(message, `m${current.length}`);
      const size = entryBytes(entry);
      if (
        current.length >= this.limits.maxEntries ||
        (current.length > 0 && bytes + size > this.limits.maxBytes)
      ) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push({ message, entry: { ...entry, Id: `m${current.length}` } });
      bytes += size;
    }
    if (current.length) batches.push(current);

    for (const batch of batches) {
      outcome.requests++;
      try {
        const result = await this.sink.publishBatch(batch.map((b) => b.entry));
        const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
        const ok = new Set((result.Successful ?? []).map((s) => s.Id));
        for (const { message, entry } of batch) {
          if (ok.has(entry.Id) && !failed.has(entry.Id)) {
            for (const id of message.alertIds) outcome.delivered.add(id);
          } else {
            const f = failed.get(entry.Id);
            outcome.failed.push({
              subject: message.subject,
              alertIds: message.alertIds,
              error: f ? `${f.Code ?? 'Failed'}${f.Message ? `: ${f.Message}` : ''}` : 'not acknowledged',
            });
          }
        }
      } catch (err) {
        for (const { message } of batch)
          outcome.failed.push({
            subject: message.subject,
            alertIds: message.alertIds,
            error: errorName(err),
          });
      }
    }
    return outcome;
  }
}
