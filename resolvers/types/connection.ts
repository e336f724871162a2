import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { Page } from '../../src/browse/pagination.js';

@ObjectType({ description: 'Relay-style page information.' })
export class PageInfo {
  @Field({ description: 'Whether more items follow this page.' })
  hasNextPage!: boolean;

  @Field({ description: 'Whether this page was requested with an `after` cursor.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item on this page.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item; pass it as `after` for the next page.' })
  endCursor!: string | null;
}

/**
 * A cursor connection over `TNode`. The total is a method so that the COUNT query runs only
 * when a client asks for `totalCount`.
 */
export function Connection<TNode extends object>(TNodeClass: ClassType<TNode>, name: string) {
  @ObjectType(`${name}Edge`, { description: `An edge in a ${name} connection.` })
  class Edge {
    @Field({ description: 'Opaque cursor of this item.' })
    cursor!: string;

    @Field(() => TNodeClass, { description: `The ${name} item.` })
    node!: TNode;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${name} items, with the total over all pages.` })
  class ConnectionClass {
    page!: Page<TNode & { id: number }>;

    @Field(() => [Edge], { description: 'The items of this page, each with its cursor, in list order.' })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursor to ask for the next one with.' })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Number of items matching, over all pages.' })
    totalCount(): Promise<number> {
      return this.page.totalCount();
    }
  }

  return ConnectionClass;
}

export function fromPage<C extends { page: Page<any>; edges: any[]; pageInfo: PageInfo }>(Cls: new () => C, page: Page<any>): C {
  const conn = new Cls();
  conn.page = page;
  conn.edges = page.nodes.map((node, i) => ({ cursor: page.cursors[i]!, node }));
  conn.pageInfo = {
    hasNextPage: page.hasNextPage,
    hasPreviousPage: page.hasPreviousPage,
    startCursor: page.cursors[0] ?? null,
    endCursor: page.cursors[page.cursors.length - 1] ?? null,
  };
  return conn;
}
