import { DomainError } from '../common/errors/domain-error.js';
import { registerErrorCodes } from '../common/errors/error-codes.js';

export enum WebhookErrorCode {
  WEBHOOK_NOT_FOUND = 'WEBHOOK_NOT_FOUND',
  WEBHOOK_MESSAGE_NOT_FOUND = 'WEBHOOK_MESSAGE_NOT_FOUND',
}

registerErrorCodes('webhooks', WebhookErrorCode, {
  WEBHOOK_NOT_FOUND: 404,
  WEBHOOK_MESSAGE_NOT_FOUND: 404,
});

export class WebhookError extends DomainError {
  constructor(code: WebhookErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
