import type { EncoderVersion, PrismaClient } from '../generated/prisma/client.ts';

export interface NewEncoder {
  name: string;
  onnxBlobKey: string;
  sidecar: object;
  inputWidth: number;
  inputHeight: number;
  channels: number;
  dims: number;
  /** The project it was trained for (trainEncoder). */
  projectId?: string | null;
}

/** Encoder versions: an ONNX model in the blob store and what it expects and outputs. */
export class EncoderRepository {
  constructor(private readonly prisma: PrismaClient) {}

  byId(id: string): Promise<EncoderVersion | null> {
    return this.prisma.encoderVersion.findUnique({ where: { id } });
  }

  byName(name: string): Promise<EncoderVersion | null> {
    return this.prisma.encoderVersion.findUnique({ where: { name } });
  }

  create(input: NewEncoder): Promise<EncoderVersion> {
    return this.prisma.encoderVersion.create({ data: { ...input, status: 'ACTIVE' } });
  }

  /**
   * Creates the version unless one of that name exists (a retried registration), which is
   * returned instead: a training run registers its encoder once.
   */
  async createOnce(input: NewEncoder): Promise<{ version: EncoderVersion; created: boolean }> {
    const existing = await this.byName(input.name);
    if (existing) return { version: existing, created: false };
    try {
      return { version: await this.create(input), created: true };
    } catch (error) {
      // Two attempts at once: the other one won.
      if ((error as { code?: string }).code !== 'P2002') throw error;
      return { version: (await this.byName(input.name))!, created: false };
    }
  }

  /** A project's encoders: the one it uses, those trained for it, those its heads used. */
  ofProject(projectId: string): Promise<EncoderVersion[]> {
    return this.prisma.encoderVersion.findMany({
      where: {
        OR: [
          { projectId },
          { projects: { some: { id: projectId } } },
          { heads: { some: { projectId } } },
        ],
      },
      orderBy: { createdAt: 'desc' },
    });
  }

  /** Newest first. */
  list(): Promise<EncoderVersion[]> {
    return this.prisma.encoderVersion.findMany({ orderBy: { createdAt: 'desc' } });
  }

  /** The encoders the given projects use, were trained for, or have heads on, newest first. */
  usedBy(projectIds: readonly string[]): Promise<EncoderVersion[]> {
    return this.prisma.encoderVersion.findMany({
      where: {
        OR: [
          { projectId: { in: [...projectIds] } },
          { projects: { some: { id: { in: [...projectIds] } } } },
          { heads: { some: { projectId: { in: [...projectIds] } } } },
        ],
      },
      orderBy: { createdAt: 'desc' },
    });
  }
}
