/**
 * The writer lease on S3: one object, `<prefix>/.ckpt-policy-lease`, changed only by conditional
 * writes: created with `If-None-Match: *`, replaced with `If-Match: <its ETag>` (AWS S3 and
 * radosgw both answer 412 when the condition fails, so of two writers exactly one succeeds).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LeaseSlot } from '../../src/core/store.ts';
import { httpStatus, isNotFound } from './errors.ts';

/** 412 Precondition Failed; 409 ConditionalRequestConflict when two conditional writes race on AWS. */
const lostRace = (e: unknown) => httpStatus(e) === 412 || httpStatus(e) === 409 || (e as { name?: string })?.name === 'PreconditionFailed';

export function s3LeaseSlot(client: S3Client, bucket: string, objectKey: string, fail: (op: string, e: unknown) => Error): LeaseSlot {
  // radosgw (16.x) matches If-Match against the bare ETag, AWS against the quoted one: learned on the first replace
  let bareEtag: boolean | null = null;
  const put = async (text: string, condition: { IfNoneMatch: '*' } | { IfMatch: string }): Promise<string | null> => {
    try {
      const r = await client.send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: text, ContentType: 'application/json', ...condition }));
      if (r.ETag === undefined) throw new Error('PutObject returned no ETag');
      return r.ETag;
    } catch (e) {
      if (lostRace(e)) return null;
      // replacing a record that was deleted meanwhile: someone else's doing, not ours
      if ('IfMatch' in condition && isNotFound(e)) return null;
      throw fail('write', e);
    }
  };
  return {
    where: `s3://${bucket}/${objectKey}`,
    async read() {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
        const text = (await r.Body?.transformToString('utf-8')) ?? '';
        if (r.ETag === undefined) throw new Error('GetObject returned no ETag');
        return { text, version: r.ETag };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw fail('read', e);
      }
    },
    create: (text) => put(text, { IfNoneMatch: '*' }),
    async replace(text, version) {
      const bare = version.replace(/^"(.*)"$/, '$1');
      if (bareEtag === true) return put(text, { IfMatch: bare });
      const v = await put(text, { IfMatch: version });
      if (v !== null || bareEtag === false || bare === version) {
        if (v !== null) bareEtag = false;
        return v;
      }
      // refused: either lost, or a server that wants the bare form; the same condition asked again cannot wrongly succeed
      const w = await put(text, { IfMatch: bare });
      if (w !== null) bareEtag = true;
      return w;
    },
  };
}
