import { ReferenceKind, SCALAR_TYPES, Utils, type EntityName } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';

/**
 * A raw row as an entity for reading only: what `em.map` makes (column names mapped, scalars
 * type-fixed as `em.map` fixes them, references for relations), without merging it into the
 * request's identity map. For hot list reads that never write: merging fifty series a page, each
 * cascading over its three references, and snapshotting them for a flush that never comes was
 * a fifth of a browse request's CPU (issue 22, point 6; measured with --cpu-prof). An entity made
 * here is not managed: never persist or flush it. `parent(type, id)` may hand over entities made
 * this way for its many-to-one references, which then point at them instead of at new
 * uninitialised references (similarImages makes a result's series, study, individual and
 * collection once each).
 */
export function mapReadOnly<T extends object>(em: EntityManager, entity: EntityName<T>, row: Record<string, unknown>, parent?: (type: string, id: unknown) => object | undefined): T {
  const meta = em.getMetadata().get<T>(Utils.className(entity));
  const data = em.getDriver().mapResult(row as any, meta) as Record<string, unknown>;
  const validator = em.getValidator();
  for (const key of Object.keys(data)) {
    const prop = (meta.properties as Record<string, any>)[key];
    if (prop?.kind === ReferenceKind.SCALAR && SCALAR_TYPES.includes(prop.runtimeType) && !prop.customType && (prop.setter || !prop.getter)) {
      data[key] = validator.validateProperty(prop, data[key], data);
    } else if (parent && prop?.kind === ReferenceKind.MANY_TO_ONE && data[key] != null) {
      data[key] = parent(prop.type, data[key]) ?? data[key];
    }
  }
  return em.getEntityFactory().create<T>(entity, data as any, { merge: false, refresh: true, convertCustomTypes: true });
}
