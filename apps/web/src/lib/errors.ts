export interface GraphQLErrorBody<T> {
  data?: T | null;
  errors?: {
    message: string;
    extensions?: { code?: string; fields?: Record<string, string> };
  }[];
}

/** An API error with its code (UNAUTHENTICATED, FORBIDDEN, CONFLICT, ...) and a readable message. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** Problems by input field (`slug`, `classes.1.hotkey`), when the API names them. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphQLRequestError';
  }

  static from(errors: NonNullable<GraphQLErrorBody<unknown>['errors']>): GraphQLRequestError {
    return new GraphQLRequestError(
      errors.map((e) => e.message).join('; '),
      errors[0]?.extensions?.code ?? 'INTERNAL',
      Object.assign({}, ...errors.map((e) => e.extensions?.fields ?? {})),
    );
  }
}
