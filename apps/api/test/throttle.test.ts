// The sign-in throttle on its own, with a one-second window so its backoff shows in seconds.
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword } from '@beanstalk/db';
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/auth/throttle.ts';

describe('sign-in throttle', () => {
  it('blocks an account whose allowance is spent, for twice as long each time', async () => {
    const throttle = new LoginThrottle(1);
    const hash = await hashPassword('the right password');
    const fail = async () => {
      await throttle.begin('a@example.com', '192.0.2.1');
      expect(await throttle.verify('a@example.com', '192.0.2.1', hash, 'wrong')).toBe(false);
    };
    for (let i = 0; i < 5; i++) await fail();
    await expect(throttle.begin('a@example.com', '192.0.2.9')).rejects.toThrow(/in 1 s/);
    await sleep(1100);
    for (let i = 0; i < 5; i++) await fail();
    await expect(throttle.begin('a@example.com', '192.0.2.9')).rejects.toThrow(/in 2 s/);
    // Past the first block's length, still blocked.
    await sleep(1100);
    await expect(throttle.begin('a@example.com', '192.0.2.9')).rejects.toThrow(/RATE|try again/);
    await sleep(1000);
    await throttle.begin('a@example.com', '192.0.2.9');
    expect(await throttle.verify('a@example.com', '192.0.2.9', hash, 'the right password')).toBe(
      true,
    );
  });

  it('a success gives the account its allowance back', async () => {
    const throttle = new LoginThrottle(60);
    const hash = await hashPassword('the right password');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        await throttle.begin('b@example.com', '192.0.2.2');
        await throttle.verify('b@example.com', '192.0.2.2', hash, 'wrong');
      }
      await throttle.begin('b@example.com', '192.0.2.2');
      expect(await throttle.verify('b@example.com', '192.0.2.2', hash, 'the right password')).toBe(
        true,
      );
    }
  });
});
