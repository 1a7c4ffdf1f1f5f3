import { hash, verify } from '@node-rs/argon2';
import { AppError } from '@beanstalk/shared';
import type { PrismaClient } from './prisma.ts';
import type { Role, User } from './generated/prisma/client.ts';

/** Passwords: argon2id with the library's defaults (memory-hard, salted). */
export const hashPassword = (password: string) => hash(password);
export const verifyPassword = (passwordHash: string, password: string) =>
  verify(passwordHash, password).catch(() => false);

/** Creates a person's account (emails are case-insensitive); API and CLI both use this. */
export async function createUser(
  prisma: PrismaClient,
  input: { email: string; name: string; password: string; isAdmin?: boolean },
): Promise<User> {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new AppError('BAD_USER_INPUT', `not an email address: ${input.email}`);
  }
  if (input.password.length < 10) {
    throw new AppError('BAD_USER_INPUT', 'a password needs at least 10 characters');
  }
  if (await prisma.user.findUnique({ where: { email } })) {
    throw new AppError('CONFLICT', `a user ${email} already exists`);
  }
  return prisma.user.create({
    data: {
      email,
      name: input.name.trim() || email,
      passwordHash: await hashPassword(input.password),
      isAdmin: input.isAdmin ?? false,
    },
  });
}

/** Gives a user a role in a project, or changes it. Integrators use API keys, not accounts. */
export async function setMembership(
  prisma: PrismaClient,
  input: { projectId: string; email: string; role: Role },
) {
  if (input.role === 'INTEGRATOR') {
    throw new AppError('BAD_USER_INPUT', 'integrators use API keys (createApiKey), not accounts');
  }
  const user = await prisma.user.findUnique({ where: { email: input.email.trim().toLowerCase() } });
  if (!user) throw new AppError('NOT_FOUND', `no user ${input.email}`);
  return prisma.membership.upsert({
    where: { userId_projectId: { userId: user.id, projectId: input.projectId } },
    create: { userId: user.id, projectId: input.projectId, role: input.role },
    update: { role: input.role },
  });
}
