export const n = (v: number | null | undefined) => (v == null ? '—' : Number(v).toLocaleString('en'));
export const date = (v: string | null | undefined) => (v ? v.slice(0, 10) : '—');
export const sexLabel = (s: string | null | undefined) => (s ? s[0] + s.slice(1).toLowerCase() : '—');
/** Where a BioProject or GSA-Human accession is described (NGDC for PRJCA/HRI, NCBI/ENA/DDBJ otherwise). */
export function bioProjectHref(acc: string): string {
  if (acc.startsWith('PRJNA')) return `https://www.ncbi.nlm.nih.gov/bioproject/${acc}`;
  if (acc.startsWith('PRJEB')) return `https://www.ebi.ac.uk/ena/browser/view/${acc}`;
  if (acc.startsWith('PRJDB')) return `https://ddbj.nig.ac.jp/resource/bioproject/${acc}`;
  return `https://ngdc.cncb.ac.cn/bioproject/browse/${acc}`;
}
export const gsaHumanHref = (acc: string) => `https://ngdc.cncb.ac.cn/gsa-human/browse/${acc}`;
export function bytes(v: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}
