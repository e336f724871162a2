/**
 * DRS ids (DRS 1.4 "DRS IDs": [A-Za-z0-9.-_~]): an image is its SOPInstanceUID, a series its
 * SeriesInstanceUID (UIDs are globally unique, so the two never collide), a collection version
 * `OBIA0001.v2`.
 */
export const DRS_ID = /^[A-Za-z0-9._~-]{1,128}$/;
export const UID = /^[0-9]+(\.[0-9]+)*$/;

export function drsUri(host: string, id: string): string {
  return `drs://${host}/${id}`;
}
