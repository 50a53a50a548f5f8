/** The resolved DoctorJobDashboardOptions. */
export const DASHBOARD_OPTIONS = Symbol('doctor-job:dashboard-options');
/** What forRoot/forRootAsync were given, before checks. */
export const DASHBOARD_RAW_OPTIONS = Symbol('doctor-job:dashboard-raw-options');
/** The cookie that carries a browser's CSRF nonce. */
export const CSRF_COOKIE = 'doctor_job_csrf';
/** The header (or form field `_csrf`) an action sends the page's token in. */
export const CSRF_HEADER = 'x-csrf-token';
/** The metadata key that marks a route the access decision does not apply to (the static assets). */
export const PUBLIC_ASSET = 'doctor-job:dashboard-public-asset';
