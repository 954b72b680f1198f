/**
 * Outgoing mail is pluggable. The default writes the reset link to the log, which is what a single
 * developer machine needs; a deployment with real users plugs in an SMTP or API mailer instead.
 */
import type { Logger } from '../../kit/observability/logger.ts';

export interface Mailer {
  sendPasswordReset(to: { email: string; username: string }, link: string, expiresAt: Date): Promise<void>;
}

export function logMailer(logger: Logger): Mailer {
  return {
    async sendPasswordReset(to, link, expiresAt) {
      logger.info({ mail_to: to.email, reset_link: link, expires_at: expiresAt.toISOString() }, 'password reset mail (log mailer)');
    },
  };
}
