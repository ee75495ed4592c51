import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { partitionOf } from '../../shared/aws/assume';

/**
 * The scheduled audit's HTML report in the stack's report bucket (deploy parameter reportBucket): one
 * object per run under reports/<account>/, plus reports/<account>/latest.html. The digest links the
 * run's object by its S3 console address, which opens only for people allowed to read the bucket — no
 * public link and no pre-signed URL that outlives its need.
 */
export class ReportPublisher {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly region: string,
  ) {}

  /** Where this run's report goes, and the console address of it. */
  locate(accountId: string, at: Date): { key: string; url: string } {
    const stamp = at.toISOString().replace(/[:.]/g, '-');
    const key = `reports/${accountId}/${stamp}.html`;
    return { key, url: consoleUrl(this.bucket, key, this.region) };
  }

  async put(key: string, html: string): Promise<void> {
    for (const target of [key, key.replace(/[^/]+\.html$/, 'latest.html')]) {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: target,
          Body: html,
          ContentType: 'text/html; charset=utf-8',
        }),
      );
    }
  }
}

export function consoleUrl(bucket: string, key: string, region: string): string {
  const partition = partitionOf(region);
  const host =
    partition === 'aws-cn'
      ? 'console.amazonaws.cn'
      : partition === 'aws-us-gov'
        ? 'console.amazonaws-us-gov.com'
        : 'console.aws.amazon.com';
  return `https://${host}/s3/object/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`;
}
