import { etag } from '../common/http/etag.js';

/** A plan's ETag: its version, raised by every adjustment and session status change. */
export const planEtag = (version: number) => etag(`p${version}`);
