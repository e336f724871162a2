import type { Knex } from 'knex';
import { visibleCollectionsWhere } from '../access/policy.js';
import { visibleSeriesWhere } from '../browse/visibility.js';
import type { Principal } from '../auth/Principal.js';
import { valueOf, type Level } from './attributes.js';
import { returnedAttributes, type Condition, type QidoQuery } from './query.js';

/** Where a nested query is rooted (`studies/{s}/series`, `studies/{s}/series/{se}/instances`). */
export interface Scope { study?: string; series?: string }

export interface QidoResult {
  /** DICOM JSON objects (PS3.18 F.2), one per match. */
  matches: Record<string, unknown>[];
  /** More matched than the limit the server allows: the answer says so (Warning 299). */
  truncated: boolean;
}

function applyCondition(qb: Knex.QueryBuilder, c: Condition): void {
  const column = c.attr.column!;
  if (c.attr.matching === 'modalities') {
    // ModalitiesInStudy: a study matches when one of its series has one of the modalities.
    const values = (c as { values: string[] }).values;
    qb.whereExists((sub) => sub.select(sub.client.raw('1')).from('series as ms').whereRaw('ms.study_id = st.id').whereIn('ms.modality', values));
    return;
  }
  const expr = qb.client.raw(column);
  if (c.kind === 'equal') {
    if (c.values.length === 1) qb.where(expr, c.values[0]);
    else qb.whereIn(expr as any, c.values);
  } else if (c.kind === 'like') {
    // Person names match case-insensitively; lower() on both sides makes that so on either database.
    if (c.attr.matching === 'person') qb.whereRaw(`lower(${column}) like lower(?) escape '!'`, [c.pattern]);
    else qb.whereRaw(`${column} like ? escape '!'`, [c.pattern]);
  } else {
    if (c.from) qb.where(expr, '>=', c.from);
    if (c.to) qb.where(expr, '<=', c.to);
  }
}

/**
 * QIDO-RS over the archive's tables: the same visibility rule as browse (what the caller may
 * see, and nothing else), one SQL statement per answer, ordered by the rows' ids so paging with
 * offset is stable. A query asks for at most `limit` + 1 rows to know whether it was cut.
 */
export class QidoService {
  constructor(private readonly knex: Knex, private readonly user: Principal | null, private readonly baseUrl: string) {}

  async search(q: QidoQuery, scope: Scope = {}): Promise<QidoResult> {
    const k = this.knex;
    const sqlite = k.client.dialect === 'sqlite3';
    const attrs = returnedAttributes(q);
    // Unscoped lists: the answer is ordered by the driving table's id and cut at the limit, so
    // reading that table in id order and stopping early is the plan. Left to itself either
    // database starts from the handful of collections and sorts every row (MariaDB's study list
    // at 1.94 M images: p50 54 ms; the bare instance list, which any anonymous caller may ask
    // for, sorted every visible image in a temporary table: 340-630 ms at 194,000 images, for
    // limit=1, on SQLite as on MariaDB). Scoped queries keep the optimizer's plan (it starts from
    // the UID given), and so do lists matching on an attribute of a level above theirs (series or
    // instances by PatientID, instances by Modality, …): those may match a few of millions of
    // rows, which the optimizer finds from the parent's side.
    const straight = !scope.study && !scope.series && q.conditions.every((c) => c.attr.level === q.level);
    const qb = this.from(q.level, straight);
    const visible = visibleCollectionsWhere(this.user);
    if (visible) visible(qb);
    // Release means reviewed (issue 22): the same series scope as browse, so a series added to a
    // released collection stays out of QIDO until a curator passes it; a study shows with a visible series.
    const series = visibleSeriesWhere(this.user, q.level === 'study' ? 'vs' : 's');
    if (series && q.level === 'study') qb.whereExists((e) => { e.select(k.raw('1')).from('series as vs').whereRaw('vs.study_id = st.id'); series(e); });
    else if (series) series(qb);
    if (scope.study) qb.where('st.study_instance_uid', scope.study);
    if (scope.series) qb.where('s.uid', scope.series);
    for (const c of q.conditions) applyCondition(qb, c);
    const select: (string | Knex.Raw)[] = [
      k.raw(`${straight && !sqlite ? 'straight_join ' : ''}st.study_instance_uid as uid_study`),
      ...(q.level !== 'study' ? [k.raw('s.uid as uid_series')] : []),
      ...(q.level === 'instance' ? [k.raw('im.uid as uid_instance')] : []),
    ];
    for (const attr of attrs) if (attr.column) select.push(k.raw(`${attr.column} as k${attr.tag}`));
    qb.select(select).orderBy(q.level === 'study' ? 'st.id' : q.level === 'series' ? 's.id' : 'im.id')
      .limit(q.limit + 1).offset(q.offset);
    const rows: Record<string, unknown>[] = q.limit === 0 ? [] : await qb;
    const truncated = rows.length > q.limit;
    const matches = rows.slice(0, q.limit).map((row) => {
      const out: Record<string, unknown> = {};
      for (const attr of attrs) {
        const value = attr.tag === '00080005' ? ['ISO_IR 192'] : attr.column ? valueOf(attr, row[`k${attr.tag}`]) : undefined;
        out[attr.tag] = value === undefined ? { vr: attr.vr } : { vr: attr.vr, Value: value };
      }
      out['00081190'] = { vr: 'UR', Value: [this.retrieveUrl(q.level, row)] };
      return out;
    });
    return { matches, truncated };
  }

  /**
   * The level's table joined to its ancestors; in `straight` order, that table first and each
   * ancestor by its primary key: MariaDB's STRAIGHT_JOIN (in the select) with the collection
   * forced to its key, since given the choice MariaDB reads the few visible collections by their
   * state index into a join buffer, and a buffered join loses the driving table's order (the
   * instance list's 630 ms above; 7 ms by the key); SQLite's CROSS JOIN, which keeps its left
   * table outside.
   */
  private from(level: Level, straight: boolean): Knex.QueryBuilder {
    const k = this.knex;
    const sqlite = k.client.dialect === 'sqlite3';
    const join = straight && sqlite ? 'crossJoin' : 'join';
    const collection = straight && !sqlite ? k.raw('?? force index (primary)', ['collection as c']) : 'collection as c';
    if (level === 'study') {
      return k('study as st')[join]('individual as i', 'i.id', 'st.individual_id')[join](collection as any, 'c.id', 'st.collection_id');
    }
    const series = level === 'series' ? k('series as s') : k('image as im')[join]('series as s', 's.id', 'im.series_id');
    return series[join]('study as st', 'st.id', 's.study_id')[join]('individual as i', 'i.id', 's.individual_id')[join](collection as any, 'c.id', 's.collection_id');
  }

  private retrieveUrl(level: Level, row: Record<string, unknown>): string {
    let url = `${this.baseUrl}/studies/${row.uid_study}`;
    if (level !== 'study') url += `/series/${row.uid_series}`;
    if (level === 'instance') url += `/instances/${row.uid_instance}`;
    return url;
  }
}
