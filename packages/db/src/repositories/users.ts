import { hash, verify } from '@node-rs/argon2';
import { AppError, isUuid } from '@beanstalk/shared';
import type { ApiKey, Membership, PrismaClient, Role, User } from '../generated/prisma/client.ts';
import { asModel, type Queryable } from '../queryable.ts';

/** Passwords: argon2id with the library's defaults (memory-hard, salted). */
export const hashPassword = (password: string) => hash(password);
export const verifyPassword = (passwordHash: string, password: string) =>
  verify(passwordHash, password).catch(() => false);

/** A signed-in person as a request sees them: the account and a role per project. */
export interface SessionUser {
  sessionId: string;
  user: User;
  roles: Map<string, Role>;
}

/** People, their sessions and roles in projects, and the API keys integrators use. */
export class UserRepository {
  constructor(
    private readonly db: Queryable,
    private readonly prisma: PrismaClient,
  ) {}

  /** Creates a person's account (emails are case-insensitive); API and CLI both use this. */
  async create(input: {
    email: string;
    name: string;
    password: string;
    isAdmin?: boolean;
  }): Promise<User> {
    const email = input.email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw new AppError('BAD_USER_INPUT', `not an email address: ${input.email}`);
    }
    if (input.password.length < 10) {
      throw new AppError('BAD_USER_INPUT', 'a password needs at least 10 characters');
    }
    if (await this.byEmail(email)) {
      throw new AppError('CONFLICT', `a user ${email} already exists`);
    }
    return this.prisma.user.create({
      data: {
        email,
        name: input.name.trim() || email,
        passwordHash: await hashPassword(input.password),
        isAdmin: input.isAdmin ?? false,
      },
    });
  }

  byEmail(email: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { email: email.trim().toLowerCase() } });
  }

  async byIds(ids: readonly string[]): Promise<User[]> {
    const { rows } = await this.db.query('SELECT * FROM users WHERE id = ANY($1::uuid[])', [ids]);
    return rows.map((r) => asModel<User>(r)!);
  }

  list(): Promise<User[]> {
    return this.prisma.user.findMany({ orderBy: { email: 'asc' } });
  }

  /** Gives a user a role in a project, or changes it. Integrators use API keys, not accounts. */
  async setMembership(input: {
    projectId: string;
    email: string;
    role: Role;
  }): Promise<Membership> {
    if (input.role === 'INTEGRATOR') {
      throw new AppError('BAD_USER_INPUT', 'integrators use API keys (createApiKey), not accounts');
    }
    const user = await this.byEmail(input.email);
    if (!user) throw new AppError('NOT_FOUND', `no user ${input.email}`);
    return this.prisma.membership.upsert({
      where: { userId_projectId: { userId: user.id, projectId: input.projectId } },
      create: { userId: user.id, projectId: input.projectId, role: input.role },
      update: { role: input.role },
    });
  }

  membersOf(projectId: string): Promise<Membership[]> {
    return this.prisma.membership.findMany({ where: { projectId }, orderBy: { createdAt: 'asc' } });
  }

  memberships(userId: string): Promise<Membership[]> {
    return this.prisma.membership.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
  }

  async createSession(input: { userId: string; tokenHash: string; expiresAt: Date }) {
    await this.prisma.session.create({ data: input });
  }

  /** The person behind a session token (by its hash), if the session has not expired. */
  async bySession(tokenHash: string): Promise<SessionUser | null> {
    const session = await this.prisma.session.findUnique({
      where: { tokenHash },
      include: { user: { include: { memberships: true } } },
    });
    if (!session || session.expiresAt <= new Date()) return null;
    const { memberships, ...user } = session.user;
    return {
      sessionId: session.id,
      user,
      roles: new Map(memberships.map((m) => [m.projectId, m.role])),
    };
  }

  async endSession(sessionId: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { id: sessionId } });
  }

  /** Ends every session of a person (signed out everywhere); returns how many there were. */
  async endSessionsOf(userId: string): Promise<number> {
    return (await this.prisma.session.deleteMany({ where: { userId } })).count;
  }

  /** Deletes expired sessions (they already grant nothing); returns how many. */
  async purgeExpiredSessions(): Promise<number> {
    return (await this.prisma.session.deleteMany({ where: { expiresAt: { lte: new Date() } } }))
      .count;
  }

  createApiKey(input: {
    projectId: string;
    role: Role;
    name: string;
    prefix: string;
    keyHash: string;
    createdById: string | null;
  }): Promise<ApiKey> {
    return this.prisma.apiKey.create({ data: input });
  }

  /** By the key's hash, with plain pg: every integrator request starts here. */
  async apiKeyByHash(keyHash: string): Promise<ApiKey | null> {
    const { rows } = await this.db.query('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]);
    return asModel<ApiKey>(rows[0]);
  }

  async apiKeyById(id: string): Promise<ApiKey | null> {
    return isUuid(id) ? this.prisma.apiKey.findUnique({ where: { id } }) : null;
  }

  apiKeysOf(projectId: string): Promise<ApiKey[]> {
    return this.prisma.apiKey.findMany({ where: { projectId }, orderBy: { createdAt: 'desc' } });
  }

  async revokeApiKey(id: string): Promise<ApiKey> {
    const key = await this.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    return this.prisma.apiKey.update({
      where: { id },
      data: { revokedAt: key.revokedAt ?? new Date() },
    });
  }

  /** Notes that a key was used. */
  async touchApiKey(id: string): Promise<void> {
    await this.db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id]);
  }
}
