import type { Config } from '@beanstalk/config';
import type { Database, Models } from '@beanstalk/db';
import { AppError, isAppError } from '@beanstalk/shared';
import type { Command } from 'commander';

const ROLES = ['ADMIN', 'MANAGER', 'ANNOTATOR'] as const;

/** Accounts for people: the first administrator, and roles in projects. */
export function addUserCommands(
  program: Command,
  config: Config,
  withDb: <T>(config: Config, fn: (deps: { db: Database }) => Promise<T>) => Promise<T>,
) {
  const user = program.command('user').description('accounts for the web app and the API');
  user
    .command('create')
    .description('create an account (the password comes from BEANSTALK_PASSWORD or --password)')
    .requiredOption('--email <email>')
    .option('--name <name>', 'display name', '')
    .option('--password <password>', 'at least 10 characters')
    .option('--admin', 'platform administrator (may create projects and users)', false)
    .option('--if-missing', 'do nothing when the account exists', false)
    .action(
      async (opts: {
        email: string;
        name: string;
        password?: string;
        admin: boolean;
        ifMissing: boolean;
      }) => {
        const password = opts.password ?? process.env.BEANSTALK_PASSWORD;
        if (!password)
          throw new AppError('BAD_USER_INPUT', 'give --password or set BEANSTALK_PASSWORD');
        await withDb(config, async ({ db }) => {
          try {
            const created = await db.users.create({ ...opts, password, isAdmin: opts.admin });
            console.log(`created ${created.email}${created.isAdmin ? ' (platform admin)' : ''}`);
          } catch (error) {
            if (!(opts.ifMissing && isAppError(error, 'CONFLICT'))) throw error;
            console.log(`${opts.email} exists`);
          }
        });
      },
    );
  user
    .command('grant')
    .description('give an account a role in a project')
    .requiredOption('--email <email>')
    .requiredOption('--project <slug>')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .action(async (opts: { email: string; project: string; role: string }) => {
      const role = opts.role.toUpperCase() as Models.Role;
      if (!(ROLES as readonly string[]).includes(role)) {
        throw new AppError('BAD_USER_INPUT', `role must be one of ${ROLES.join(', ')}`);
      }
      await withDb(config, async ({ db }) => {
        const project = await db.projects.bySlug(opts.project);
        if (!project) throw new AppError('NOT_FOUND', `no project "${opts.project}"`);
        await db.users.setMembership({ projectId: project.id, email: opts.email, role });
        console.log(`${opts.email} is ${role.toLowerCase()} of ${opts.project}`);
      });
    });
}
