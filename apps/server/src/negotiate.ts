import { CONTENT_TYPES } from '@kproxy/protocol';

/** Quality Accept gives `type`, from the most specific matching entry (0 when none matches). */
function quality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = -1;
  let q = 0;
  for (const part of accept.split(',')) {
    const [rawRange, ...params] = part.trim().toLowerCase().split(';');
    const range = rawRange?.trim() ?? '';
    const specificity = range === type ? 3 : range === `${major}/*` ? 2 : range === '*/*' ? 1 : 0;
    if (specificity <= best || specificity === 0) continue;
    best = specificity;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    q = Number.isFinite(value) ? value : 0;
  }
  return q;
}

/**
 * True when `Accept` prefers JSON over plain text. Ties go to text, the original proxy's format,
 * so `*\/*` and missing headers keep the old behaviour.
 */
export function prefersJson(accept: string | null | undefined): boolean {
  if (accept === null || accept === undefined || accept === '') return false;
  return quality(accept, CONTENT_TYPES.json) > quality(accept, CONTENT_TYPES.text);
}
