/** The uploader: the store's outbox to the shop's collector, in the @hunch/core wire protocol. */
export { createUploader, type Uploader, type UploaderOptions, type UploadReport, type UploadStatus } from './uploader.js';
export { backoffDelay, parseRetryAfter, type BackoffOptions } from './backoff.js';
export { sendChunk, type SendOutcome } from './send.js';
export { createConsent, CONSENT_KEY, type Consent, type ConsentOptions, type ConsentState, type ConsentValue, type ConsentPurpose } from '../consent.js';
