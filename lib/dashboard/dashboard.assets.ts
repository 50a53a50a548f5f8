import { createHash } from 'node:crypto';
import { DASHBOARD_CSS } from './dashboard.css';
import { DASHBOARD_JS } from './dashboard.script';

/** A short hash of the assets, in their URLs: a new version of the package is a new URL, so caches never serve a stale script. */
export const ASSET_VERSION = createHash('sha256').update(DASHBOARD_CSS).update(DASHBOARD_JS).digest('hex').slice(0, 12);

export { DASHBOARD_CSS, DASHBOARD_JS };
