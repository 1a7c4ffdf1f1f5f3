import { notFound } from 'next/navigation';
import { Forbidden } from '../../../../src/components/forbidden.tsx';
import { ItemFilters } from '../../../../src/components/item-filters.tsx';
import { ItemGrid } from '../../../../src/components/item-grid.tsx';
import { SearchByImage } from '../../../../src/components/search-by-image.tsx';
import { ItemsPageQuery } from '../../../../src/lib/items-query.ts';
import { request } from '../../../../src/lib/graphql.ts';
import { toFilter, type FilterParams } from '../../../../src/lib/item-filters.ts';
import { projectPage } from '../../../../src/lib/session.ts';

export const dynamic = 'force-dynamic';

export default async function ItemsPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<FilterParams>;
}) {
  const { slug } = await params;
  const search = await searchParams;
  const { project, allowed, missing } = await projectPage(slug, 'items');
  if (missing) notFound();
  if (!allowed || !project) return <Forbidden what="the dataset explorer" />;
  const { filter, sort } = toFilter(search);
  const data = await request(ItemsPageQuery, { slug, filter, sort, after: null });
  return (
    <>
      <h1>Explore · {project.name}</h1>
      <ItemFilters classes={project.classes} values={search} />
      <p aria-live="polite" data-testid="item-total">
        {data.items.totalCount.toLocaleString('en')} items match
      </p>
      <ItemGrid
        slug={slug}
        filter={filter}
        sort={sort}
        initial={data.items.edges.map((e) => e.node)}
        cursor={data.items.pageInfo.hasNextPage ? (data.items.pageInfo.endCursor ?? null) : null}
      />
      <SearchByImage slug={slug} />
    </>
  );
}
