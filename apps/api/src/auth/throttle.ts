import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { hashPassword, verifyPassword } from '@beanstalk/db';
import { AppError } from '@beanstalk/shared';

/** Failed sign-ins allowed per account, and per client address, in a window. */
const PER_ACCOUNT = 5;
const PER_ADDRESS = 20;
const WINDOW_SECONDS = 15 * 60;

const retryIn = (rejection: unknown) =>
  rejection instanceof RateLimiterRes ? Math.ceil(rejection.msBeforeNext / 1000) : 1;

/**
 * Sign-in attempts: each attempt takes one of PER_ACCOUNT for the account (and PER_ADDRESS for
 * the client address) within the window before the password is checked, so concurrent guesses
 * cannot slip past the count; a success gives the account's back. With the allowance spent,
 * attempts are refused, right password or not, and each time it is spent again the block
 * doubles. An unknown account costs the same password check as a known one, so timing does not
 * tell which accounts exist.
 */
export class LoginThrottle {
  private readonly accounts: RateLimiterMemory;
  private readonly addresses: RateLimiterMemory;
  /** How often an account's allowance was spent in the last day: each time doubles the block. */
  private readonly strikes = new RateLimiterMemory({ points: 1_000_000, duration: 86_400 });
  private readonly dummyHash = hashPassword('an account that does not exist');

  /** `windowSeconds`: how long failures count, and the first block (15 minutes). */
  constructor(private readonly windowSeconds = WINDOW_SECONDS) {
    this.accounts = new RateLimiterMemory({ points: PER_ACCOUNT, duration: windowSeconds });
    this.addresses = new RateLimiterMemory({ points: PER_ADDRESS, duration: windowSeconds });
  }

  /** Counts an attempt; throws RATE_LIMITED while the account or the address is blocked. */
  async begin(email: string, address: string): Promise<void> {
    try {
      await this.accounts.consume(email);
      await this.addresses.consume(address);
    } catch (rejection) {
      throw new AppError(
        'RATE_LIMITED',
        `too many failed sign-ins; try again in ${retryIn(rejection)} s`,
        { retryAfterSeconds: retryIn(rejection) },
      );
    }
  }

  /**
   * Checks a password against a stored hash (or a dummy one for an unknown account, taking
   * the same time). A success clears the account's count; a failure that spends the
   * allowance blocks the account for the window times 2^(times spent today - 1).
   */
  async verify(email: string, address: string, passwordHash: string | null, password: string) {
    const ok = await verifyPassword(passwordHash ?? (await this.dummyHash), password);
    if (ok && passwordHash) {
      await Promise.all([this.accounts.delete(email), this.addresses.reward(address, 1)]);
      return true;
    }
    const left = await this.accounts.get(email);
    if (left && left.remainingPoints <= 0) {
      const spent = await this.strikes.penalty(email, 1);
      await this.accounts.block(email, this.windowSeconds * 2 ** (spent.consumedPoints - 1));
    }
    return false;
  }
}

/**
 * Requests per second for one caller, averaged over 10 s so bursts pass: keyed by the client
 * address before the caller is known, and by the verified key or account after.
 */
export class RequestLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(perSecond: number) {
    this.limiter = new RateLimiterMemory({ points: perSecond * 10, duration: 10 });
  }

  /** Counts one request against `key`; throws RATE_LIMITED over the limit. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (rejection) {
      const retry =
        rejection instanceof RateLimiterRes ? Math.ceil(rejection.msBeforeNext / 1000) : 1;
      throw new AppError('RATE_LIMITED', `too many requests; retry in ${retry} s`, {
        retryAfterSeconds: retry,
      });
    }
  }
}
