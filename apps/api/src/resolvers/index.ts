import type { Resolvers } from '../generated/graphql.ts';
import { LabelClass } from './label-class.ts';
import { Project } from './project.ts';
import { Query } from './query.ts';

export const resolvers: Resolvers = { Query, Project, LabelClass };
