-- Webhooks can be told when the label check after a round flags labels as likely wrong.
ALTER TYPE "WebhookEvent" ADD VALUE 'LABELS_FLAGGED';
