import type { EncoderVersion, PrismaClient } from '../generated/prisma/client.ts';

export interface NewEncoder {
  name: string;
  onnxBlobKey: string;
  sidecar: object;
  inputWidth: number;
  inputHeight: number;
  channels: number;
  dims: number;
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

  /** Newest first. */
  list(): Promise<EncoderVersion[]> {
    return this.prisma.encoderVersion.findMany({ orderBy: { createdAt: 'desc' } });
  }

  /** The encoders the given projects use or have heads on, newest first. */
  usedBy(projectIds: readonly string[]): Promise<EncoderVersion[]> {
    return this.prisma.encoderVersion.findMany({
      where: {
        OR: [
          { projects: { some: { id: { in: [...projectIds] } } } },
          { heads: { some: { projectId: { in: [...projectIds] } } } },
        ],
      },
      orderBy: { createdAt: 'desc' },
    });
  }
}
