import { graphql } from '../generated/gql.ts';

/** One page of the explorer's grid (server-rendered first, then fetched by the grid). */
export const ItemsPageQuery = graphql(`
  query ItemsPage($slug: String!, $filter: ItemFilter, $sort: ItemSort, $after: String) {
    items(project: $slug, filter: $filter, sort: $sort, first: 120, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          imageDataUrl
          split
          label {
            labelClass {
              name
            }
            source
          }
          prediction {
            labelClass {
              name
            }
            confidence
            anomalyScore
          }
        }
      }
    }
  }
`);
