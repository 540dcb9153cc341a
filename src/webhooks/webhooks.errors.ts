import { DomainError } from '../common/errors/domain-error.js';

export enum WebhookErrorCode {
  WEBHOOK_NOT_FOUND = 'WEBHOOK_NOT_FOUND',
  WEBHOOK_MESSAGE_NOT_FOUND = 'WEBHOOK_MESSAGE_NOT_FOUND',
}

export class WebhookError extends DomainError {
  constructor(code: WebhookErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, [], extensions);
  }
}
