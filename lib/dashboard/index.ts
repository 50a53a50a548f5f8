// `doctor-job/dashboard`: the operator's console (a Nest module with server-rendered pages). The main entry point never loads it.
export { DoctorJobDashboardModule } from './dashboard.module';
export {
  DEFAULT_REFRESH_INTERVAL_MS,
  InvalidDashboardOptionsError,
  type DoctorJobDashboardAsyncOptions,
  type DoctorJobDashboardOptions,
} from './dashboard.options';
export { CONTENT_SECURITY_POLICY } from './dashboard.headers';
