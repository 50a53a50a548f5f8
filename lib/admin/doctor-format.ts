/** How `doctor` writes its figures: counts, bytes, durations, shares, and what the database would not say. */
import type { StoreDiagnostics } from '../store/job-store.interface';

export function unavailableNote(diagnostics: StoreDiagnostics): string {
  return diagnostics.unavailable.length ? ` (${diagnostics.unavailable.join('; ')})` : '';
}

/** 1234567 → "1,234,567". */
export function count(value: number | null): string {
  return value === null ? '?' : Math.round(value).toLocaleString('en-US');
}

/** Bytes in B, kB, MB, GB (powers of 1024). */
export function bytes(value: number | null): string {
  if (value === null) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(n) : n.toFixed(n < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A duration: "3 s ago", "12 min ago", "2 h ago", "4 d ago" (without " ago" when `suffix` is false). */
export function ago(ms: number, suffix = true): string {
  const s = Math.max(0, ms) / 1000;
  const text = s < 1 ? `${Math.round(s * 1000)} ms` : s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172_800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86_400)} d`;
  return suffix ? `${text} ago` : text;
}

export function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}
