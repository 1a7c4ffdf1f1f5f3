import type { LabelClassResolvers } from '../generated/graphql.ts';

export const LabelClass: LabelClassResolvers = {
  retired: (labelClass) => labelClass.retiredAt !== null,
};
