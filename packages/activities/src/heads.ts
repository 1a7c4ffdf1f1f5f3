import type { PrismaClient } from '@beanstalk/db';
import { deserializeHead, type HeadWeights } from '@beanstalk/ml';
import { AppError } from '@beanstalk/shared';

export async function loadHead(prisma: PrismaClient, headVersionId: string): Promise<HeadWeights> {
  const head = await prisma.headVersion.findUnique({ where: { id: headVersionId } });
  if (!head) throw new AppError('NOT_FOUND', `head version ${headVersionId} does not exist`);
  const { shapes } = head.config as { shapes: number[][] };
  return deserializeHead(head.weights, shapes, head.kind === 'LINEAR' ? 'linear' : 'mlp');
}

/** A project's classes in position order; a class's index in models is its place here. */
export async function classIndex(prisma: PrismaClient, projectId: string) {
  const classes = await prisma.labelClass.findMany({
    where: { projectId },
    orderBy: { position: 'asc' },
  });
  const indexOf = new Map(classes.map((c, i) => [c.id, i]));
  return { classes, indexOf };
}
